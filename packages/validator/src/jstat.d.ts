/** The jStat functions the validator's tests cross-check against (jstat ships no types). */
declare module 'jstat' {
  const jStat: {
    gammaln(x: number): number;
    chisquare: { cdf(x: number, dof: number): number };
  };
  export default jStat;
}
