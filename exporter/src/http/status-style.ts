/**
 * The status page's only style, inline in every page. It lives apart so that the
 * Content-Security-Policy can allow exactly it by its hash (http/security-headers.ts).
 */
export const STATUS_CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem;color:#1f2328}
a{color:#0b5cad}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.n{font-size:1.4rem;font-weight:600}
.healthy{color:#1a7f37}.failing{color:#cf222e}.warning,.intermittent,.inactive,.testing{color:#9a6700}
ul.summary{list-style:none;padding:0}ul.summary li{margin:.4rem 0}ul.summary ul{list-style:none;margin-left:1.5rem}
code{background:#f6f8fa;padding:0 .2rem}nav a{margin-right:1rem}form input,form select{margin-right:.5rem}
.notice{border-left:4px solid #9a6700;background:#fff8c5;padding:.5rem .75rem;margin:.75rem 0}.mark{color:#9a6700;font-size:.85em}
`;
