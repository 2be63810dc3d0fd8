/// The pages' Mustache templates. `{{name}}` escapes HTML; the templates never use the triple-brace or ampersand
/// tags (a test reads them to make sure), so nothing from the repository or a step reaches the page unescaped.
/// Each starts with the content-type pragma of `PageEscaping` (the library's own HTML escaping, made fast).
/// The stage cards are written by `HTMLWriter` (the overview's thousands of them); markup is terse on purpose:
/// the overview of 1,000 pipelines must stay under 1 MB.
enum PageTemplates {
    static let all: [String: String] = [
        "layout": layout, "pageTop": pageTop, "pageBottom": pageBottom, "overview": overview, "stageHead": stageHead,
        "stageBody": stageBody, "promotion": promotion, "audit": audit, "message": message, "recordTable": recordTable,
    ]

    static let pragma = "{{% CONTENT_TYPE: \(PageEscaping.name)}}"

    static let pageTop = """
        \(pragma)<!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        {{#refresh}}<meta http-equiv="refresh" content="{{refresh}}">{{/refresh}}
        <title>{{title}} · pipeline-agent</title>
        <link rel="stylesheet" href="/static/style.css">
        </head><body>
        <header><a class="brand" href="/">pipeline-agent</a>
        <nav><a href="/">Overview</a> <a href="/audit">Audit</a></nav>
        <span class="generated">as of {{generated}}{{#refresh}} · reloads every {{refresh}} s{{/refresh}}</span></header>
        <main>

        """

    static let pageBottom = """
        \(pragma)</main>
        <footer>Read-only view of the agent's state store and audit chain: it shows what <code>status</code> and
        <code>audit log</code> show. Colours repeat the words next to them.</footer>
        </body></html>

        """

    static let layout = "\(pragma){{>pageTop}}{{$content}}{{/content}}{{>pageBottom}}"

    static let overview = """
        \(pragma)<h1>Pipelines</h1>
        <p class="summary">{{pipelineCount}} pipelines. Stages: {{#counts}}<b class="{{tone}}">{{count}} {{phase}}</b> {{/counts}}</p>
        {{#source}}<p class="source">Source <code>{{url}}</code>{{#lastFetch}}: last fetched {{lastFetch}} ({{age}}){{/lastFetch}}{{#error}} <b class="bad">fetch failing</b> {{error}}{{/error}}</p>{{/source}}
        {{#agents}}<h2>Agents</h2><ul class="agents">{{#rows}}<li><b class="{{tone}}">{{state}}</b> {{instance}}{{#coordinator}} (coordinator){{/coordinator}}, heartbeat {{heartbeat}}{{#running}}; runs {{running}}{{/running}}</li>{{/rows}}</ul>{{/agents}}
        {{#empty}}<p>No pipeline yet: the agent has not finished a pass, or the repository holds no pipeline spec.</p>{{/empty}}

        """

    static let stageHead = """
        \(pragma)<p class="crumbs"><a href="{{overviewAnchor}}">{{pipeline}}</a> / {{stage}}</p>
        <h1>{{pipeline}} / {{stage}}</h1>

        """

    static let stageBody = """
        \(pragma)        <h2>Promotions</h2>
        {{^promotions}}<p>None yet.</p>{{/promotions}}
        {{#promotions}}<table><thead><tr><th>#</th><th>candidate</th><th>started</th><th>took</th><th>outcome</th><th>approved by</th><th>reason</th></tr></thead><tbody>
        {{#rows}}<tr><td><a href="{{href}}">#{{id}}</a></td><td>{{#candidate}}<code>{{short}}</code> {{subject}} <i>{{author}}</i>{{/candidate}}</td><td>{{started}}<br><i>{{age}}</i></td><td>{{duration}}</td><td><b class="{{tone}}">{{outcome}}</b></td><td>{{approvers}}</td><td>{{reason}}</td></tr>
        {{/rows}}</tbody></table>{{/promotions}}
        {{#olderPromotions}}<p>{{olderPromotions}} older promotions: see <code>pipeline-agent history</code>.</p>{{/olderPromotions}}
        <h2>Health over time</h2>
        {{^health}}<p>No health change recorded.</p>{{/health}}
        {{#health}}<table><thead><tr><th>seq</th><th>time</th><th>from</th><th>to</th><th>checks</th></tr></thead><tbody>
        {{#rows}}<tr><td>{{seq}}</td><td>{{time}}</td><td>{{from}}</td><td><b class="{{tone}}">{{to}}</b></td><td>{{#checks}}{{.}}<br>{{/checks}}</td></tr>
        {{/rows}}</tbody></table>{{/health}}
        <p><a href="{{auditHref}}">This stage's audit records</a></p>
        """

    static let recordTable = """
        \(pragma)<table class="records"><thead><tr><th>seq</th><th>time</th><th>type</th><th>stage</th><th>candidate</th><th>actor</th><th>detail</th></tr></thead><tbody>
        {{#rows}}<tr id="seq-{{seq}}" class="{{tone}}"><td>{{seq}}</td><td>{{time}}</td><td>{{#promotionHref}}<a href="{{promotionHref}}">{{type}}</a>{{/promotionHref}}{{^promotionHref}}{{type}}{{/promotionHref}}</td><td>{{#stageHref}}<a href="{{stageHref}}">{{pipeline}}/{{stage}}</a>{{/stageHref}}</td><td><code>{{candidate}}</code></td><td>{{actor}}{{#agent}}<br><i>{{agent}}</i>{{/agent}}</td><td class="detail">{{detail}}</td></tr>
        {{/rows}}</tbody></table>
        """

    static let message = """
        \(pragma){{<layout}}{{$content}}
        <h1>{{title}}</h1>
        <p>{{message}}</p>
        <p><a href="/">Back to the overview</a></p>
        {{/content}}{{/layout}}
        """
}
