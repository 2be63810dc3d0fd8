/// The pages' one stylesheet, served from `/static/style.css` (a strict CSP allows no inline style).
/// Tones: `ok`, `run`, `wait`, `frz`, `bad`, `unk`; `<b class=tone>` is a badge, `<i>` a person or an aside; an
/// overview `section` is a pipeline, each `div` in it a stage.
enum Stylesheet {
    static let css = """
        :root { --ok: #1a7f37; --run: #0969da; --wait: #9a6700; --bad: #cf222e; --frz: #6639ba; --unk: #57606a; }
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
        i { font-style: normal; color: #57606a; font-size: .9em; }
        b[class] { display: inline-block; padding: 0 .5em; border-radius: 1em; font-size: .85em; color: #fff; background: var(--unk); }
        b.ok { background: var(--ok); } b.run { background: var(--run); } b.wait { background: var(--wait); }
        b.bad { background: var(--bad); } b.frz { background: var(--frz); }
        section { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: .8em; align-items: start;
          background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: .6em 1em; margin: .8em 0; }
        section > h2, section > p { grid-column: 1 / -1; margin: 0; }
        section > div, .card > div { border: 1px solid #d0d7de; border-left: 6px solid var(--unk); border-radius: 6px; padding: .5em .8em; background: #fff; }
        section > div p, .card > div p { margin: .25em 0; overflow-wrap: anywhere; }
        div.ok { border-left-color: var(--ok); } div.run { border-left-color: var(--run); } div.wait { border-left-color: var(--wait); }
        div.bad { border-left-color: var(--bad); } div.frz { border-left-color: var(--frz); }
        .card { max-width: 40em; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: .15em .8em; margin: .4em 0; }
        dt { color: #57606a; } dd { margin: 0; overflow-wrap: anywhere; }
        .reason { overflow-wrap: anywhere; }
        .fl { padding: .1em .5em; background: #fff8c5; border-left: 3px solid var(--wait); font-size: .9em; }
        .stale { font-size: .9em; color: var(--bad); }
        table { border-collapse: collapse; width: 100%; background: #fff; font-size: .9em; }
        th, td { border: 1px solid #d0d7de; padding: .3em .5em; text-align: left; vertical-align: top; }
        th { background: #f6f8fa; } td.detail { overflow-wrap: anywhere; max-width: 50em; }
        tr.bad td:first-child { border-left: 4px solid var(--bad); } tr.ok td:first-child { border-left: 4px solid var(--ok); }
        tr.wait td:first-child { border-left: 4px solid var(--wait); }
        pre.log { background: #0d1117; color: #e6edf3; padding: .6em; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 30em; }
        .step { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: .5em .8em; margin: .5em 0; }
        .chain { padding: .5em .8em; background: #fff; border: 1px solid #d0d7de; border-left: 6px solid var(--unk); }
        .chain.ok { border-left-color: var(--ok); } .chain.bad { border-left-color: var(--bad); }
        p.bad { color: var(--bad); }
        .filters label { margin-right: .6em; } .filters input { width: 9em; } .hint { font-size: .85em; color: #57606a; }
        .crumbs { margin: 0; font-size: .9em; }
        """
}
