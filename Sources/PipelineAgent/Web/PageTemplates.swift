/// The pages' Mustache templates. `{{name}}` escapes HTML; the templates never use the triple-brace or ampersand
/// tags (a test reads them to make sure), so nothing from the repository or a step reaches the page unescaped.
enum PageTemplates {
    static let all: [String: String] = [
        "layout": layout, "overview": overview, "stage": stage, "promotion": promotion, "audit": audit,
        "message": message, "stageCard": stageCard, "recordTable": recordTable,
    ]

    static let layout = """
        <!doctype html>
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
        {{$content}}{{/content}}
        </main>
        <footer>Read-only view of the agent's state store and audit chain: it shows what <code>status</code> and
        <code>audit log</code> show. Colours repeat the words next to them.</footer>
        </body></html>
        """

    static let stageCard = """
        <div class="stage tone-{{tone}}">
        <h3><a href="{{href}}">{{name}}</a></h3>
        <p><span class="badge tone-{{tone}}">{{phase}}</span> <span class="badge health tone-{{healthTone}}">health: {{health}}</span></p>
        <dl>
        <dt>running</dt><dd>{{#current}}<code>{{short}}</code> {{subject}} <span class="who">{{author}}</span>{{/current}}{{^current}}nothing yet{{/current}}</dd>
        {{#desired}}<dt>desired</dt><dd><code>{{short}}</code> {{subject}} <span class="who">{{author}}</span></dd>{{/desired}}
        {{#approvals}}<dt>approvals</dt><dd>{{have}} of {{need}}{{#by}}: {{by}}{{/by}}</dd>{{/approvals}}
        </dl>
        <p class="reason">{{reason}}</p>
        {{#floor}}<p class="floor">floor: {{.}}</p>{{/floor}}
        {{#stale}}<p class="stale">approval by {{approver}} (commit <code>{{commit}}</code>) is stale: the stage spec changed{{#changes}}<br><code>{{.}}</code>{{/changes}}</p>{{/stale}}
        </div>
        """

    static let overview = """
        {{<layout}}{{$content}}
        <h1>Pipelines</h1>
        <p class="summary">{{pipelineCount}} pipelines. Stages: {{#counts}}<span class="badge tone-{{tone}}">{{count}} {{phase}}</span> {{/counts}}</p>
        {{#source}}<p class="source">Source <code>{{url}}</code>{{#lastFetch}}: last fetched {{lastFetch}} ({{age}}){{/lastFetch}}{{#error}} <span class="badge tone-bad">fetch failing</span> {{error}}{{/error}}</p>{{/source}}
        {{#agents}}<h2>Agents</h2><ul class="agents">{{#rows}}<li><span class="badge tone-{{tone}}">{{state}}</span> {{instance}}{{#coordinator}} (coordinator){{/coordinator}}, heartbeat {{heartbeat}}{{#running}}; runs {{running}}{{/running}}</li>{{/rows}}</ul>{{/agents}}
        {{#empty}}<p>No pipeline yet: the agent has not finished a pass, or the repository holds no pipeline spec.</p>{{/empty}}
        {{#pipelines}}
        <section class="pipeline" id="{{anchor}}">
        <h2>{{name}}</h2>
        {{#invalid}}<p><span class="badge tone-{{tone}}">{{phase}}</span> {{reason}}</p>{{/invalid}}
        <div class="stages">{{#stages}}{{>stageCard}}{{/stages}}</div>
        </section>
        {{/pipelines}}
        {{/content}}{{/layout}}
        """

    static let stage = """
        {{<layout}}{{$content}}
        <p class="crumbs"><a href="{{overviewAnchor}}">{{pipeline}}</a> / {{stage}}</p>
        <h1>{{pipeline}} / {{stage}}</h1>
        {{#now}}{{>stageCard}}{{/now}}
        <h2>Promotions</h2>
        {{^promotions}}<p>None yet.</p>{{/promotions}}
        {{#promotions}}<table><thead><tr><th>#</th><th>candidate</th><th>started</th><th>took</th><th>outcome</th><th>approved by</th><th>reason</th></tr></thead><tbody>
        {{#rows}}<tr><td><a href="{{href}}">#{{id}}</a></td><td>{{#candidate}}<code>{{short}}</code> {{subject}} <span class="who">{{author}}</span>{{/candidate}}</td><td>{{started}}<br><span class="who">{{age}}</span></td><td>{{duration}}</td><td><span class="badge tone-{{tone}}">{{outcome}}</span></td><td>{{approvers}}</td><td>{{reason}}</td></tr>
        {{/rows}}</tbody></table>{{/promotions}}
        {{#olderPromotions}}<p>{{olderPromotions}} older promotions: see <code>pipeline-agent history</code>.</p>{{/olderPromotions}}
        <h2>Health over time</h2>
        {{^health}}<p>No health change recorded.</p>{{/health}}
        {{#health}}<table><thead><tr><th>seq</th><th>time</th><th>from</th><th>to</th><th>checks</th></tr></thead><tbody>
        {{#rows}}<tr><td>{{seq}}</td><td>{{time}}</td><td>{{from}}</td><td><span class="badge tone-{{tone}}">{{to}}</span></td><td>{{#checks}}{{.}}<br>{{/checks}}</td></tr>
        {{/rows}}</tbody></table>{{/health}}
        <p><a href="{{auditHref}}">This stage's audit records</a></p>
        {{/content}}{{/layout}}
        """

    static let recordTable = """
        <table class="records"><thead><tr><th>seq</th><th>time</th><th>type</th><th>stage</th><th>candidate</th><th>actor</th><th>detail</th></tr></thead><tbody>
        {{#rows}}<tr id="seq-{{seq}}" class="tone-{{tone}}"><td>{{seq}}</td><td>{{time}}</td><td>{{#promotionHref}}<a href="{{promotionHref}}">{{type}}</a>{{/promotionHref}}{{^promotionHref}}{{type}}{{/promotionHref}}</td><td>{{#stageHref}}<a href="{{stageHref}}">{{pipeline}}/{{stage}}</a>{{/stageHref}}</td><td><code>{{candidate}}</code></td><td>{{actor}}{{#agent}}<br><span class="who">{{agent}}</span>{{/agent}}</td><td class="detail">{{detail}}</td></tr>
        {{/rows}}</tbody></table>
        """

    static let message = """
        {{<layout}}{{$content}}
        <h1>{{title}}</h1>
        <p>{{message}}</p>
        <p><a href="/">Back to the overview</a></p>
        {{/content}}{{/layout}}
        """
}
