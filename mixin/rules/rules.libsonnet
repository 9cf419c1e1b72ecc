// Generated from alerts/src and dashboards/src by `npm run mixin:generate`; do not edit by hand.
{
  prometheusRules+:: {
    groups+: [],
  },
}
