import { QUERY_TYPES } from '@stb/core';
import { isTextOnly, mysqlServerLabel } from './mysql-dialect';

describe('mysql-dialect', () => {
  it('sends TCL, UTILITY and DDL as text, every other statement type prepared', () => {
    expect(QUERY_TYPES.filter((t) => isTextOnly(t))).toEqual([
      'DDL',
      'TCL',
      'UTILITY',
    ]);
  });

  it('labels the server version with its product', () => {
    expect(mysqlServerLabel('10.11.6-MariaDB-0+deb12u1')).toBe(
      'MariaDB 10.11.6-MariaDB-0+deb12u1',
    );
    expect(mysqlServerLabel('8.0.36')).toBe('MySQL 8.0.36');
    expect(mysqlServerLabel('')).toBe('MySQL ');
  });
});
