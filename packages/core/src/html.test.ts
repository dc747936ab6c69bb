import { escapeHtml } from './html';

describe('escapeHtml', () => {
  it('escapes the five characters that end text or a quoted attribute, & first', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
    expect(escapeHtml('plain ünïcode')).toBe('plain ünïcode');
  });
});
