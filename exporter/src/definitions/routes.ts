import express, { type Router } from 'express';
import type { RouteHelpers } from '../feed/routes.js';
import type { DefinitionKind } from '../store/index.js';
import type { DefinitionOperations } from './operations.js';

/**
 * C: /api/profiles and /api/mailboxes definitions (admin role; docs/api.md). Reading a mailbox
 * stays GET /api/mailboxes/:id (its answer carries `source`); profiles are read here.
 */
export function definitionRoutes(ops: DefinitionOperations, { needs, actor }: Pick<RouteHelpers, 'needs' | 'actor'>): Router {
  const r = express.Router();
  const id = (p: unknown) => String(p);
  const body = (b: unknown) => (b === undefined ? {} : b);
  r.get('/profiles', needs('admin'), (_req, res) => {
    res.json(ops.list('profile'));
  });
  r.get('/profiles/:id', needs('admin'), (req, res) => {
    res.json(ops.get('profile', id(req.params.id)));
  });
  const writes = (path: string, kind: DefinitionKind, withList: boolean) => {
    if (withList) {
      r.post(path, needs('admin'), async (req, res) => {
        res.status(201).json(await ops.create(kind, body(req.body), actor(res)));
      });
    }
    r.put(`${path}/:id`, needs('admin'), async (req, res) => {
      res.json(await ops.replace(kind, id(req.params.id), body(req.body), actor(res)));
    });
    r.delete(`${path}/:id`, needs('admin'), async (req, res) => {
      res.json(await ops.remove(kind, id(req.params.id), actor(res)));
    });
  };
  writes('/profiles', 'profile', true);
  writes('/mailboxes', 'mailbox', true);
  return r;
}
