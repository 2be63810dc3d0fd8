import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Reconciler

/// Renders the pages from their templates into responses, with how long the rendering took in
/// `Server-Timing` (what `make bench` reads).
struct PageRenderer: Sendable {
    private let library: MustacheLibrary
    /// Seconds between the page's own reloads (a meta refresh: it needs no script).
    let refreshSeconds: Int
    private let sections = SectionCache()

    init(refreshSeconds: Int = 15) throws {
        PageEscaping.registered
        var templates: [String: MustacheTemplate] = [:]
        for (name, text) in PageTemplates.all { templates[name] = try MustacheTemplate(string: text) }
        library = MustacheLibrary(templates: templates)
        self.refreshSeconds = refreshSeconds
    }

    /// The page `template` filled from `context`, as HTML; `started` is when its data began to be read.
    func page(
        _ template: String, _ context: [String: Any], status: HTTPResponse.Status = .ok, refresh: Bool = true,
        started: ContinuousClock.Instant, now: Date
    ) -> Response {
        let html = render(template, frame(context, refresh: refresh, now: now))
        return response(html, status: status, started: started)
    }

    /// The overview: heading, then each pipeline's section (written by `HTMLWriter`: at 1,000 pipelines Mustache took
    /// 170 ms for the cards; reused while the pipeline's plan is unchanged), then the footer. Each part is escaped on
    /// its own, so joining them needs no unescaped template tag.
    func overview(_ plan: Plan, commits: CommitLookup, started: ContinuousClock.Instant, now: Date) -> Response {
        let frame = frame(OverviewPage.summary(plan: plan, now: now), refresh: true, now: now)
        var html = render("pageTop", frame) + render("overview", frame)
        let pipelines = plan.pipelines.sorted { $0.name < $1.name }
        html.reserveCapacity(pipelines.count * 1000)
        for pipeline in pipelines {
            html += sections.html(for: pipeline) {
                let (section, complete) = OverviewPage.section(pipeline, commits: commits)
                var writer = HTMLWriter()
                writer.section(section)
                return (writer.html, complete)
            }
        }
        sections.keep(only: Set(pipelines.map(\.name)))
        html += render("pageBottom", frame)
        return response(html, status: .ok, started: started)
    }

    /// A page whose main part is `head` (a template), a stage card written by `HTMLWriter`, then `body` (a template).
    func withCard(
        head: String, card: StageCard?, body: String, _ context: [String: Any], started: ContinuousClock.Instant, now: Date
    ) -> Response {
        let frame = frame(context, refresh: true, now: now)
        var writer = HTMLWriter()
        if let card {
            writer.markup("<div class=\"card\">")
            writer.card(card)
            writer.markup("</div>\n")
        }
        let html =
            render("pageTop", frame) + render(head, frame) + writer.html + render(body, frame) + render("pageBottom", frame)
        return response(html, status: .ok, started: started)
    }

    /// A page that says what went wrong (not found, a bad query) and links back.
    func message(
        _ title: String, _ message: String, status: HTTPResponse.Status, started: ContinuousClock.Instant, now: Date
    ) -> Response {
        page("message", ["title": title, "message": message], status: status, refresh: false, started: started, now: now)
    }

    private func frame(_ context: [String: Any], refresh: Bool, now: Date) -> [String: Any] {
        var context = context
        context["generated"] = PageFormat.time(now)
        if refresh { context["refresh"] = refreshSeconds }
        return context
    }

    private func render(_ template: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: template) ?? "template \(template) is missing\n"
    }

    private func response(_ html: String, status: HTTPResponse.Status, started: ContinuousClock.Instant) -> Response {
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        if let timing = HTTPField.Name("Server-Timing") { headers[timing] = String(format: "render;dur=%.2f", milliseconds) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

/// Each pipeline's rendered overview section, kept while its plan is the same value. A section naming a
/// commit the mirror did not hold yet is not kept (its subject may appear at the next fetch).
final class SectionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (plan: PipelinePlan, html: String)] = [:]

    func html(for pipeline: PipelinePlan, render: () -> (html: String, complete: Bool)) -> String {
        if let entry = lock.withLock({ entries[pipeline.name] }), entry.plan == pipeline { return entry.html }
        let (html, complete) = render()
        if complete { lock.withLock { entries[pipeline.name] = (pipeline, html) } }
        return html
    }

    /// Forgets the sections of pipelines that are gone.
    func keep(only names: Set<String>) {
        lock.withLock {
            guard entries.count > names.count else { return }
            entries = entries.filter { names.contains($0.key) }
        }
    }
}
