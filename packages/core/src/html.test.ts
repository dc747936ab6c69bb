import { REPORT_BASE_CSS, escapeHtml, renderReportDocument } from './html';

describe('escapeHtml', () => {
  it('escapes the five characters that end text or a quoted attribute, & first', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
    expect(escapeHtml('plain ünïcode')).toBe('plain ünïcode');
  });
});

describe('renderReportDocument', () => {
  const html = renderReportDocument({
    title: 'Runs <a> & <b>',
    subtitle: 'x "compared" with y',
    colors: { orig: '#123456', gen: '#abcdef' },
    css: '.own{color:red}\n',
    sections: ['<section>one</section>', '<section>two</section>'],
  });

  it('escapes the title and subtitle, and keeps the sections as HTML, in order', () => {
    expect(html).toContain('<title>Runs &lt;a&gt; &amp; &lt;b&gt;</title>');
    expect(html).toContain('<h1>Runs &lt;a&gt; &amp; &lt;b&gt;</h1>');
    expect(html).toContain('<p class="sub">x &quot;compared&quot; with y</p>');
    expect(html).toContain('<section>one</section>\n<section>two</section>');
  });

  it('allows no script, no network and no asset but inline style and data: images', () => {
    expect(html).toContain(
      `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`,
    );
    expect(html).not.toMatch(/<script|https?:\/\//);
  });

  it('defines the colour variables, then the shared rules, then the report own', () => {
    const style = /<style>([\s\S]*)<\/style>/.exec(html)?.[1] ?? '';
    expect(style).toContain('--orig:#123456;--gen:#abcdef}');
    const base = style.indexOf(REPORT_BASE_CSS);
    expect(base).toBeGreaterThan(style.indexOf(':root'));
    expect(style.indexOf('.own{color:red}')).toBeGreaterThan(base);
  });
});
