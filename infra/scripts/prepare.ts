// `npm ci`'s last step (`prepare`): build the console and the PGlite template, and say once which Node the scripts run on
// (the machine's `node` may be older; the project's `.npmrc` keeps npm quiet about it).
await import('../console/build.ts');
// The PGlite template a fresh `npm start` folder is copied from (infra/local/README.md); a
// failure only costs a slower first start, never the install.
try {
  const { ensurePgliteTemplate } = await import('../local/pglite-template.ts');
  await ensurePgliteTemplate((line) => console.log(line));
} catch (error) {
  console.error(`PGlite template not built: ${(error as Error).message}`);
}
console.log(
  `npm scripts run on the project's own Node ${process.version} (node_modules/.bin/node), whatever node is on PATH`,
);
