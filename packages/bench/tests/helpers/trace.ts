// In-memory trace builder for the runner tests: the one plugin authors get from @stb/testkit.
export { TraceBuilder, interleave, template } from '@stb/testkit';
