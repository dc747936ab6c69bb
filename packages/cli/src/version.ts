import packageJson from '../package.json';

/** The version of `@stb/cli` (all `@stb/*` packages share one version until 1.0). */
export const STB_VERSION: string = packageJson.version;
