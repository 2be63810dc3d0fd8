extension PageTemplates {
    static let promotion = """
        \(pragma){{<layout}}{{$content}}
        <p class="crumbs"><a href="{{stageHref}}">{{pipeline}} / {{stage}}</a> / promotion #{{id}}</p>
        <h1>Promotion #{{id}}: {{pipeline}} / {{stage}} <b class="{{tone}}">{{outcome}}</b></h1>
        <dl class="facts">
        <dt>candidate</dt><dd>{{#candidate}}<code>{{id}}</code><br>{{subject}} <i>{{author}} &lt;{{email}}&gt;</i>{{/candidate}}</dd>
        <dt>previous</dt><dd>{{#previous}}<code>{{short}}</code> {{subject}}{{/previous}}{{^previous}}nothing (first promotion){{/previous}}</dd>
        <dt>started</dt><dd>{{started}}{{#agent}} by agent {{agent}}{{/agent}}</dd>
        <dt>ended</dt><dd>{{#ended}}{{ended}} (took {{duration}}){{/ended}}{{^ended}}still running{{/ended}}</dd>
        {{#reason}}<dt>reason</dt><dd class="reason">{{reason}}</dd>{{/reason}}
        {{#runAs}}<dt>steps ran as</dt><dd>{{runAs}}</dd>{{/runAs}}
        {{#specDigest}}<dt>stage spec digest</dt><dd><code>{{specDigest}}</code></dd>{{/specDigest}}
        </dl>
        <h2>Checks</h2>
        {{^checks}}<p>No check ran.</p>{{/checks}}
        <ul>{{#checks}}<li><b class="{{tone}}">{{level}}</b> <code>{{check}}</code>: measured {{measured}}: {{message}} <i>(seq {{seq}})</i></li>{{/checks}}</ul>
        <h2>Rollback</h2>
        {{^rollback}}<p>None.</p>{{/rollback}}
        <ul>{{#rollbackSteps}}<li><b class="{{tone}}">{{result}}</b> step <code>{{name}}</code> (attempt {{attempt}}){{#exit}}, exit status {{exit}}{{/exit}}, took {{duration}}</li>{{/rollbackSteps}}</ul>
        {{#rollback}}{{>recordTable}}{{/rollback}}
        <h2>Commits promoted</h2>
        {{^commits}}<p>{{#rangeNote}}{{rangeNote}}{{/rangeNote}}{{^rangeNote}}No commit between the previous candidate and this one.{{/rangeNote}}</p>{{/commits}}
        <ul class="commits">{{#commits}}<li><code>{{short}}</code> {{subject}} <i>{{author}} &lt;{{email}}&gt;, {{time}}</i></li>{{/commits}}</ul>
        {{#moreCommits}}<p>and {{moreCommits}} older commits (see <code>git log</code>).</p>{{/moreCommits}}
        <h2>Approvals it started on</h2>
        {{^approvals}}<p>None: the stage needed no approval when it started.</p>{{/approvals}}
        <ul>{{#approvals}}<li><strong>{{principal}}</strong>, key <code>{{fingerprint}}</code>, file <code>{{file}}</code> added in <code>{{addedIn}}</code>{{#stageDigest}}; signed stage digest <code>{{stageDigest}}</code>{{/stageDigest}}</li>{{/approvals}}</ul>
        <h2>Gates that held it</h2>
        {{^gates}}<p>None recorded: it started at the first pass that saw it.</p>{{/gates}}
        <ul>{{#gates}}<li><b class="wait">{{phase}}</b> {{reason}} <i>(seq {{seq}}, {{time}})</i></li>{{/gates}}</ul>
        <h2>Steps</h2>
        {{^steps}}<p>No step ran.</p>{{/steps}}
        {{#steps}}<div class="step"><h3>{{phase}} <code>{{name}}</code> (attempt {{attempt}}) <b class="{{tone}}">{{result}}</b></h3>
        <p>{{#exit}}exit status {{exit}}, {{/exit}}took {{duration}}{{#digest}}, output sha256 <code>{{digest}}</code>{{/digest}}</p>
        {{#noLog}}<p><i>{{noLog}}</i></p>{{/noLog}}{{^noLog}}<pre class="log">{{tail}}</pre>{{/noLog}}
        </div>{{/steps}}
        <h2>Audit records</h2>
        {{#records}}{{>recordTable}}{{/records}}
        <p><a href="{{auditHref}}">All records of this candidate on this stage</a></p>
        {{/content}}{{/layout}}
        """

    static let audit = """
        \(pragma){{<layout}}{{$content}}
        <h1>Audit trail</h1>
        {{#chain}}<p class="chain {{#intact}}ok{{/intact}}{{^intact}}bad{{/intact}}">
        {{#intact}}<b class="ok">chain intact</b> {{records}} records verified, up to seq {{headSeq}}{{/intact}}
        {{^intact}}<b class="bad">chain BROKEN</b> {{problem}} ({{records}} records verified before it){{/intact}}
        <br>head hash <code>{{headHash}}</code>; checked {{checked}}{{#newer}}; {{newer}} records were being written meanwhile{{/newer}}</p>{{/chain}}
        {{#witness}}<p class="chain">Witness checkpoints go to {{where}}.{{#unreadable}} The witness file cannot be read from here.{{/unreadable}}
        {{#checkpoints}}{{checkpoints}} checkpoints, newest seq {{newest}}: {{#holds}}<b class="ok">every witnessed head is in the chain</b>{{/holds}}{{^holds}}<b class="bad">checkpoints do not hold</b>{{/holds}}{{/checkpoints}}
        {{#problems}}<br>{{.}}{{/problems}}</p>{{/witness}}
        <form method="get" action="/audit" class="filters">
        {{#filters}}<label>{{name}} <input name="{{name}}" value="{{value}}"></label> {{/filters}}
        <button type="submit">Filter</button> <a href="/audit">clear</a>
        </form>
        <p class="hint">type takes a prefix ending in a dot (<code>promotion.</code>); since and until take a date, an RFC 3339 time or an age (<code>2h</code>, <code>7d</code>).</p>
        {{#error}}<p class="bad">{{error}}</p>{{/error}}
        <p>{{#total}}{{total}} records{{#filtered}} match{{/filtered}}, newest first, page {{page}} of {{pages}}.{{/total}}
        Download {{#filtered}}these records{{/filtered}}{{^filtered}}the whole chain{{/filtered}}: <a href="{{exportJSONL}}" download>JSON Lines</a> (as stored; verify the whole chain with <code>scripts/verify-audit.py</code>) · <a href="{{exportCSV}}" download>CSV</a></p>
        {{#records}}{{>recordTable}}{{/records}}{{^records}}<p>No record matches.</p>{{/records}}
        <p class="paging">{{#newer}}<a href="{{newer}}">← newer</a>{{/newer}} {{#older}}<a href="{{older}}">older →</a>{{/older}}</p>
        {{/content}}{{/layout}}
        """
}
