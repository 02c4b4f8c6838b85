// `npm ci`'s last step (`prepare`): build the console, and say once which Node the scripts run on
// (the machine's `node` may be older; the project's `.npmrc` keeps npm quiet about it).
await import('../console/build.ts');
console.log(
  `npm scripts run on the project's own Node ${process.version} (node_modules/.bin/node), whatever node is on PATH`,
);
