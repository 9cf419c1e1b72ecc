/**
 * The mailsync config the ConfigMap carries: a minimal one to start from (examples/mailsync.yaml
 * has every key). What differs from a config on a host is where things are in the pod: the
 * listener on every interface for Prometheus, the store on the writable volume, and every secret
 * read from the environment, which the Deployment fills from the Secret.
 */
export const STORE_DIR = '/var/lib/mailsync';
export const CONFIG_DIR = '/etc/mailsync';
export const PORT = 9782;

/** The keys of the Secret, each read by the config below as `${NAME}`. */
export const SECRET_KEYS = ['MAILSYNC_ONCALL_TOKEN', 'MAILSYNC_ADMIN_TOKEN', 'MAILBOX_ANN_PASSWORD'] as const;

export const MAILSYNC_YAML = `# mailsync config for Kubernetes (deploy/kubernetes). Every key: docs/configuration.md.
# Secrets come from the environment, which the Deployment fills from the Secret "mailsync".
server:
  listen: 0.0.0.0:${PORT}
store:
  path: ${STORE_DIR}/mailsync.db
log:
  level: info
organization:
  id: contoso.example
api:
  tokens:
    - { name: oncall, role: operator, token: "\${MAILSYNC_ONCALL_TOKEN}" }
    - { name: mail-admin, role: admin, token: "\${MAILSYNC_ADMIN_TOKEN}" }
profiles:
  - id: corp-imap
    owner: mail-team@contoso.example
    incoming: { host: imap.contoso.example, port: 993, security: tls }
    auth: { mode: mailbox }
mailboxes:
  - id: ann
    address: ann@contoso.example
    profile: corp-imap
    credentials: { username: ann@contoso.example, password: "\${MAILBOX_ANN_PASSWORD}" }
`;
