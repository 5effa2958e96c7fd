"""Plans' dashboard pages: `pages.js` (imported by the dashboard), the modules it imports,
and `i18n/<lang>.json`. The gateway finds this folder through the `im.web` entry point."""
