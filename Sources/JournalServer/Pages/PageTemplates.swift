/// The web pages' Mustache templates and style sheet, compiled into the binary so that `tpj` serves
/// its pages from wherever it is installed. Every value is written with `{{…}}`, which escapes HTML;
/// the only unescaped values (`{{{…}}}`) are markup built by these templates or by ``HTML``, which
/// escapes what it interpolates: the layout's body, the customer's chart and touchpoint rows.
enum PageTemplates {
    static let all: [String: String] = [
        "layout": layout, "sign-in": signIn, "customers": customers, "customer": customer, "at-risk": atRisk, "error": error,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Touchpoint Journal</title>
        <link rel="stylesheet" href="/static/tpj.css">
        </head>
        <body>
        <header class="top">
        <a class="brand" href="/customers">Touchpoint Journal</a>
        {{#viewer}}
        <nav><a href="/customers">Find a customer</a><a href="/at-risk">At risk</a></nav>
        <form class="sign-out" method="post" action="/sign-out"><span class="who">{{name}} · {{role}}</span><button type="submit">Sign out</button></form>
        {{/viewer}}
        </header>
        <main>
        {{{body}}}
        </main>
        <footer>Log head {{head}} · projections at {{projected}}</footer>
        </body>
        </html>
        """

    static let signIn = """
        <section class="sign-in">
        <h1>Sign in</h1>
        {{#message}}<p class="error" role="alert">{{message}}</p>{{/message}}
        <form method="post" action="/sign-in">
        <input type="hidden" name="next" value="{{next}}">
        <label for="token">Access token</label>
        <input id="token" name="token" type="password" autocomplete="off" required placeholder="tpj_…">
        <button type="submit">Sign in</button>
        </form>
        <p class="hint">An administrator creates your token with <code>tpj token create --role staff --name "Your name"</code>.
        It is kept in a cookie that scripts cannot read, for 12 hours or until you sign out.</p>
        </section>
        """

    static let customers = """
        <h1>Find a customer</h1>
        <form class="search" method="get" action="/customers">
        <input name="q" value="{{query}}" placeholder="Customer id, name, serial, case, quote or city" aria-label="Customer id, name, machine serial, case id, quote id or city" autofocus>
        <button type="submit">Search</button>
        </form>
        {{#searched}}
        {{#hasMatches}}<p class="summary" id="count">{{first}}–{{last}} of {{total}} customers</p><ul class="matches">{{/hasMatches}}
        {{#matches}}<li><a href="{{href}}">{{customerId}}</a> <span class="name">{{name}}</span> <span class="matched">{{matched}}</span></li>{{/matches}}
        {{#hasMatches}}</ul><p class="pages">{{#previous}}<a href="{{previous}}" rel="prev">← previous</a> {{/previous}}{{#next}}<a href="{{next}}" rel="next">next →</a>{{/next}}</p>{{/hasMatches}}
        {{^matches}}<p class="empty">No customer has an id, name, machine serial, case id, quote id or city matching “{{query}}”.</p>{{/matches}}
        {{/searched}}
        {{^searched}}<p class="hint">Type a customer id (C-100031), part of a name, or the start of a machine serial, case id, quote id or city. <a href="/at-risk">Customers at risk</a> lists whom to call first.</p>{{/searched}}
        """

    static let customer = """
        <div class="customer-head">
        <h1><span class="name">{{name}}</span> <span class="id">{{customerId}}</span></h1>
        <p class="as-of">As of {{asOf}} · {{touchpointCount}} touchpoints</p>
        </div>
        {{{summary}}}
        <section class="figures">
        <div class="figure"><span class="label">Segment</span><span class="value" id="segment">{{segment}}</span></div>
        <div class="figure"><span class="label">Journey index</span><span class="value band-{{journeyBand}}" id="journey">{{journeyDisplay}}</span><span class="note">{{journeyNote}}</span></div>
        <div class="figure"><span class="label">Churn risk</span><span class="value band-{{churnBand}}" id="churn">{{churnProbability}}</span><span class="note">{{churnBand}}</span></div>
        <div class="figure"><span class="label">Promises kept</span><span class="value" id="promises">{{promiseKeeping}}</span></div>
        <div class="figure{{#hasOpenComplaints}} alert{{/hasOpenComplaints}}"><span class="label">Open complaints</span><span class="value" id="open-complaints">{{openComplaints}}</span></div>
        <div class="figure{{#hasOpenCases}} alert{{/hasOpenCases}}"><span class="label">Open cases</span><span class="value" id="open-cases">{{openCases}}</span></div>
        </section>
        {{#hasChurnReasons}}
        <section class="reasons" id="churn-reasons">
        <h2>Why this customer may leave</h2>
        <ul>{{#churnReasons}}<li><span class="contribution">{{contribution}}</span> {{text}}</li>{{/churnReasons}}</ul>
        </section>
        {{/hasChurnReasons}}
        <section class="journey" id="journey">
        <h2>Journey</h2>
        <nav class="range" aria-label="Time range">
        <p class="range-shown" id="range">{{rangeFrom}} … {{rangeTo}} · {{shownCount}} of {{touchpointCount}} touchpoints{{#filtered}} (filtered){{/filtered}}</p>
        <p class="range-links">{{#earlier}}<a href="{{earlier}}" rel="prev">← earlier</a>{{/earlier}}
        {{#zooms}}<a href="{{href}}"{{#current}} class="current" aria-current="true"{{/current}}>{{label}}</a>{{/zooms}}
        {{#later}}<a href="{{later}}" rel="next">later →</a>{{/later}}
        <a href="{{expandAll}}">expand all cases</a>{{#collapseAll}} <a href="{{collapseAll}}">collapse cases</a>{{/collapseAll}}</p>
        </nav>
        <p class="legend"><span class="swatch s-neg2"></span>−100 … −41 <span class="swatch s-neg1"></span>−40 … −6 <span class="swatch s-zero"></span>−5 … +5
        <span class="swatch s-pos1"></span>+6 … +39 <span class="swatch s-pos2"></span>+40 … +100 <span class="swatch s-none"></span>not scored
        <span class="swatch ring"></span>broken promise or open complaint · large marks are moments of truth · bars are service cases (red: open; click a closed one to see its touchpoints) · click a mark for its details</p>
        {{{chart}}}
        </section>
        <section class="moments">
        <h2>Moments of truth in this range</h2>
        {{#hasMoments}}<table id="moments"><thead><tr><th>Occurred</th><th>Touchpoint</th><th>Case</th><th>Score</th><th>Impact</th><th>Reasons</th></tr></thead><tbody>{{/hasMoments}}
        {{#moments}}<tr><td><a href="#tp-{{position}}">{{occurred}}</a></td><td>{{type}}</td><td>{{caseId}}</td><td><span class="score {{scoreClass}}">{{score}}</span></td><td>{{impact}}</td><td>{{reasons}}</td></tr>{{/moments}}
        {{#hasMoments}}</tbody></table>{{/hasMoments}}
        {{^moments}}<p class="empty">No moment of truth in this range.</p>{{/moments}}
        </section>
        <section class="touchpoints">
        <h2>Touchpoints in this range, newest first</h2>
        {{#hasTouchpoints}}<div class="scroll"><table id="touchpoints"><thead><tr><th>Occurred</th><th>Kind</th><th>Touchpoint</th><th>Case</th><th>Machine</th><th>Score</th><th>Details</th></tr></thead>
        <tbody>
        {{{touchpoints}}}
        </tbody></table></div>{{/hasTouchpoints}}
        {{^hasTouchpoints}}<p class="empty" id="no-touchpoints">No touchpoint in this range.{{#earlier}} <a href="{{earlier}}">Look earlier.</a>{{/earlier}}</p>{{/hasTouchpoints}}
        </section>
        """

    static let atRisk = """
        <h1>Customers at risk</h1>
        <form class="filters" method="get" action="/at-risk">
        <label>Band <select name="band">{{#bands}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/bands}}</select></label>
        <label>Segment <select name="segment">{{#segments}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/segments}}</select></label>
        <label>Show <select name="top">{{#tops}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/tops}}</select></label>
        <button type="submit">Apply</button>
        </form>
        <p class="summary" id="summary">{{customers}} customers as of {{asOf}}: <span class="band-high">{{high}} high</span>, <span class="band-medium">{{medium}} medium</span>, <span class="band-low">{{low}} low</span>. {{matching}} match the filters{{#cut}}, the riskiest {{shown}} are shown{{/cut}}. The day's list, as of midnight UTC; a customer's page shows its risk as of now.</p>
        {{#hasRisks}}<table id="risks"><thead><tr><th>Customer</th><th>Name</th><th>Segment</th><th>Risk</th><th>Band</th><th>Main reason</th></tr></thead><tbody>{{/hasRisks}}
        {{#risks}}<tr><td><a href="{{href}}">{{customerId}}</a></td><td>{{name}}</td><td>{{segment}}</td><td>{{probability}}</td><td><span class="band band-{{band}}">{{band}}</span></td><td>{{reason}}</td></tr>{{/risks}}
        {{#hasRisks}}</tbody></table>{{/hasRisks}}
        {{^risks}}<p class="empty">No customer matches these filters.</p>{{/risks}}
        """

    static let error = """
        <section class="problem">
        <h1>{{heading}}</h1>
        <p class="error" role="alert">{{message}}</p>
        <p><a href="/customers">Find a customer</a></p>
        </section>
        """

    static let styleSheet = """
        :root { --ink: #1d2430; --muted: #5d6776; --line: #d9dee5; --bg: #f6f7f9; --accent: #1f5fa8;
          --neg2: #b2182b; --neg1: #ef8a62; --zero: #c9ccd1; --pos1: #91cf60; --pos2: #1a9641; --none: #8a94a3; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
        header.top { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #17324f; color: #fff; }
        header.top a { color: #fff; text-decoration: none; }
        .brand { font-weight: 700; letter-spacing: .02em; }
        header nav { display: flex; gap: 18px; flex: 1; }
        .sign-out { display: flex; gap: 10px; align-items: center; margin: 0; }
        .sign-out button { background: transparent; color: #fff; border: 1px solid #8fb0d6; border-radius: 4px; padding: 3px 10px; cursor: pointer; }
        main { max-width: 1200px; margin: 0 auto; padding: 20px 24px 40px; }
        footer { text-align: center; color: var(--muted); font-size: 12px; padding: 12px; }
        h1 { font-size: 24px; margin: 8px 0 14px; } h2 { font-size: 18px; margin: 26px 0 10px; }
        a { color: var(--accent); }
        input, select, button { font: inherit; padding: 6px 10px; border: 1px solid var(--line); border-radius: 4px; }
        button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
        .search input { width: 420px; max-width: 100%; }
        .sign-in { max-width: 460px; margin: 40px auto; background: #fff; padding: 24px; border: 1px solid var(--line); border-radius: 8px; }
        .sign-in label { display: block; margin-bottom: 6px; font-weight: 600; }
        .sign-in input[type=password] { width: 100%; margin-bottom: 12px; }
        .error { color: var(--neg2); font-weight: 600; }
        .hint, .empty, .as-of, .note, .meta { color: var(--muted); }
        .matches { list-style: none; padding: 0; } .matches li { padding: 6px 0; border-bottom: 1px solid var(--line); }
        .customer-head h1 .id { color: var(--muted); font-weight: 400; font-size: 18px; margin-left: 8px; }
        .hotline dl { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); grid-auto-flow: dense; gap: 8px 16px; margin: 0 0 16px; }
        .hotline .item { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
        .hotline .item.alert { border-color: var(--neg2); } .hotline .item.wide { grid-column: span 2; }
        .hotline dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .hotline dd { margin: 4px 0 0; }
        .figures { display: flex; flex-wrap: wrap; gap: 12px; }
        .figure { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 140px; display: flex; flex-direction: column; }
        .figure.alert { border-color: var(--neg2); background: #fdf0f0; }
        .figure .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .figure .value { font-size: 24px; font-weight: 700; }
        .band-high, .band-critical { color: var(--neg2); } .band-lost { color: var(--muted); text-decoration: line-through; } .band-medium, .band-at-risk { color: #c46a00; } .band-low, .band-good, .band-excellent { color: var(--pos2); }
        .reasons ul { margin: 0; padding-left: 20px; } .contribution { display: inline-block; min-width: 60px; color: var(--neg2); font-variant-numeric: tabular-nums; }
        .range p { margin: 4px 0; } .range-links a { margin-right: 10px; white-space: nowrap; } .range-links a.current { font-weight: 700; color: var(--ink); text-decoration: none; }
        .chart { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 4px 10px 8px; }
        .chart .lane { display: grid; grid-template-columns: 190px 1fr; border-top: 1px solid #eef0f3; }
        .chart .lane.axis { border-top: 0; } .chart .axis .row { height: 20px; }
        .lane-label { font-size: 12px; padding: 5px 8px 0 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        .lane-asset .lane-label { font-weight: 700; }
        .chart .rows { position: relative; margin: 0 8px; }
        .chart .row { position: relative; height: 24px; }
        .tick { position: absolute; top: 2px; transform: translateX(-50%); font-size: 11px; color: var(--muted); white-space: nowrap; }
        .mark { position: absolute; top: 12px; width: 10px; height: 10px; margin: -5px 0 0 -5px; border-radius: 50%; border: 1px solid #fff; z-index: 2; }
        .mark.s-none { width: 8px; height: 8px; margin: -4px 0 0 -4px; }
        .mark.moment { width: 15px; height: 15px; margin: -7.5px 0 0 -7.5px; border: 2px solid var(--ink); }
        .mark.voided { background: transparent !important; border: 1px dashed var(--none); }
        .mark.ring { box-shadow: 0 0 0 2px #fff, 0 0 0 4.5px var(--neg2); }
        .mark:hover, .mark:focus { outline: 3px solid var(--accent); outline-offset: 1px; z-index: 3; }
        .episode { position: absolute; top: 6px; height: 12px; min-width: 6px; border-radius: 6px; background: #b9c2ce; overflow: hidden;
          font-size: 0; text-decoration: none; }
        .episode.expanded { background: #e4e8ee; }
        .episode.open { background: #fbe3e4; border: 1.5px dashed var(--neg2); }
        .episode.broken { box-shadow: inset 0 0 0 2px var(--neg2); }
        .episode:hover, .episode:target { outline: 2px solid var(--accent); }
        @media (max-width: 700px) {
          header.top { flex-wrap: wrap; gap: 6px 16px; padding: 8px 12px; }
          main { padding: 12px 10px 30px; }
          .hotline .item.wide { grid-column: auto; }
          .tick.minor { display: none; }
          .chart { padding: 4px 6px 8px; }
          .chart .lane { grid-template-columns: 1fr; }
          .lane-label { padding: 4px 0 0; }
          .chart .axis .lane-label { display: none; }
          .chart .rows { margin: 0 6px; }
          .search input { width: 100%; }
          .scroll { overflow-x: auto; }
          .details { min-width: 220px; }
        }
        .s-neg2 { fill: var(--neg2); background: var(--neg2); } .s-neg1 { fill: var(--neg1); background: var(--neg1); }
        .s-zero { fill: var(--zero); background: var(--zero); } .s-pos1 { fill: var(--pos1); background: var(--pos1); }
        .s-pos2 { fill: var(--pos2); background: var(--pos2); } .s-none { fill: var(--none); background: var(--none); }
        .legend { font-size: 12px; color: var(--muted); }
        .swatch { display: inline-block; width: 11px; height: 11px; border-radius: 50%; vertical-align: -1px; margin: 0 3px 0 8px; }
        .swatch.ring { background: transparent; border: 2.5px solid var(--neg2); }
        table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; font-size: 13px; }
        th { background: #eef1f5; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
        .score { display: inline-block; min-width: 38px; text-align: center; border-radius: 10px; padding: 0 6px; color: #fff; font-weight: 600; }
        .score.s-zero { color: var(--ink); }
        .flag { display: inline-block; background: var(--neg2); color: #fff; border-radius: 3px; padding: 0 5px; font-size: 11px; font-weight: 700; }
        .reasons { color: var(--ink); font-weight: 600; }
        .details { max-width: 560px; }
        .details dl { margin: 0; color: var(--muted); max-height: 1.45em; overflow: hidden; }
        .details dt, .details dd { display: inline; margin: 0; } .details dt::after { content: "="; } .details dd::after { content: " "; }
        .details .meta { display: none; margin: 6px 0 0; font-size: 12px; }
        tr:target { background: #fff7d6; outline: 2px solid #e0b400; }
        tr:target .details dl { max-height: none; display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; color: var(--ink); }
        tr:target .details dt { color: var(--muted); } tr:target .details dt::after, tr:target .details dd::after { content: none; }
        tr:target .details dd { word-break: break-word; } tr:target .details .meta { display: block; }
        tr.flagged td:first-child { border-left: 4px solid var(--neg2); }
        tr.voided { opacity: .55; text-decoration: line-through; }
        .star { color: #c48a00; }
        .filters { display: flex; gap: 14px; align-items: center; flex-wrap: wrap; margin-bottom: 10px; }
        .band { font-weight: 700; }
        """ + "\n" + TimelineChart.positionStyles
}
