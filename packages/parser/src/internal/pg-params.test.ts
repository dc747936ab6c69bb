import { formatPgParameters, parsePgParameters } from './pg-params';

describe('parsePgParameters', () => {
  it('reads quoted values with doubled quotes, multi-line values and NULL', () => {
    expect(
      parsePgParameters("$1 = 'it''s', $2 = NULL, $3 = 'a\nb', $10 = ''"),
    ).toEqual([
      { index: 1, value: "it's" },
      { index: 2, value: null },
      { index: 3, value: 'a\nb' },
      { index: 10, value: '' },
    ]);
    expect(parsePgParameters("$1 = '$2 = ''x'', $3 = NULL'")).toEqual([
      { index: 1, value: "$2 = 'x', $3 = NULL" },
    ]);
    expect(parsePgParameters("$1 = 'abc'...")).toEqual([
      { index: 1, value: 'abc' },
    ]);
  });

  it('rejects malformed text', () => {
    for (const bad of [
      "$1 = 'open",
      '$1 = 5',
      "1 = 'x'",
      "$1 = 'x' $2 = 'y'",
      '$0 = NULL',
    ])
      expect(parsePgParameters(bad)).toBeUndefined();
  });

  it('round-trips with formatPgParameters', () => {
    const params = [
      { index: 1, value: 'q\'u"o' },
      { index: 2, value: null },
    ];
    expect(parsePgParameters(formatPgParameters(params))).toEqual(params);
  });
});
