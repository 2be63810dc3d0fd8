/// The pages' one stylesheet, served from `/static/style.css` (a strict CSP allows no inline style).
enum Stylesheet {
    static let css = """
        :root { --good: #1a7f37; --busy: #0969da; --wait: #9a6700; --bad: #cf222e; --frozen: #6639ba; --unknown: #57606a; }
        * { box-sizing: border-box; }
        body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
        header { display: flex; gap: 1.5em; align-items: baseline; padding: .6em 1.2em; background: #24292f; color: #fff; }
        header a { color: #fff; text-decoration: none; } header nav a { margin-right: 1em; }
        .brand { font-weight: 700; } .generated { margin-left: auto; font-size: .85em; color: #d0d7de; }
        main { padding: 1em 1.2em; max-width: 1400px; }
        footer { padding: 1em 1.2em; font-size: .8em; color: #57606a; }
        h1 { font-size: 1.5em; margin: .3em 0; } h2 { font-size: 1.2em; margin: 1.2em 0 .4em; }
        h3 { font-size: 1em; margin: 0 0 .3em; }
        code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; }
        .pipeline { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: .6em 1em; margin: .8em 0; }
        .pipeline h2 { margin-top: 0; }
        .stages { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: .8em; align-items: start; }
        .stage { border: 1px solid #d0d7de; border-left: 6px solid var(--unknown); border-radius: 6px; padding: .5em .8em; background: #fff; }
        .stage.tone-good { border-left-color: var(--good); } .stage.tone-busy { border-left-color: var(--busy); }
        .stage.tone-wait { border-left-color: var(--wait); } .stage.tone-bad { border-left-color: var(--bad); }
        .stage.tone-frozen { border-left-color: var(--frozen); }
        .stage dl, .facts { display: grid; grid-template-columns: max-content 1fr; gap: .15em .8em; margin: .4em 0; }
        dt { color: #57606a; } dd { margin: 0; overflow-wrap: anywhere; }
        .badge { display: inline-block; padding: 0 .5em; border-radius: 1em; font-size: .85em; font-weight: 600; color: #fff; background: var(--unknown); }
        .badge.tone-good { background: var(--good); } .badge.tone-busy { background: var(--busy); }
        .badge.tone-wait { background: var(--wait); } .badge.tone-bad { background: var(--bad); }
        .badge.tone-frozen { background: var(--frozen); }
        .reason { margin: .3em 0; overflow-wrap: anywhere; } .who { color: #57606a; font-size: .9em; }
        .floor { margin: .2em 0; padding: .2em .5em; background: #fff8c5; border-left: 3px solid var(--wait); font-size: .9em; }
        .stale { font-size: .9em; color: var(--bad); }
        table { border-collapse: collapse; width: 100%; background: #fff; font-size: .9em; }
        th, td { border: 1px solid #d0d7de; padding: .3em .5em; text-align: left; vertical-align: top; }
        th { background: #f6f8fa; } td.detail { overflow-wrap: anywhere; max-width: 50em; }
        tr.tone-bad td:first-child { border-left: 4px solid var(--bad); } tr.tone-good td:first-child { border-left: 4px solid var(--good); }
        tr.tone-wait td:first-child { border-left: 4px solid var(--wait); }
        pre.log { background: #0d1117; color: #e6edf3; padding: .6em; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 30em; }
        .step { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: .5em .8em; margin: .5em 0; }
        .chain { padding: .5em .8em; background: #fff; border: 1px solid #d0d7de; border-left: 6px solid var(--unknown); }
        .chain.tone-good { border-left-color: var(--good); } .chain.tone-bad { border-left-color: var(--bad); }
        .filters label { margin-right: .6em; } .filters input { width: 9em; } .hint { font-size: .85em; color: #57606a; }
        .crumbs { margin: 0; font-size: .9em; }
        """
}
