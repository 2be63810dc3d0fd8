import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// Renders the pages from their templates into responses, with how long the rendering took in
/// `Server-Timing` (what `make bench` reads).
struct PageRenderer: Sendable {
    private let library: MustacheLibrary
    /// Seconds between the page's own reloads (a meta refresh: it needs no script).
    let refreshSeconds: Int

    init(refreshSeconds: Int = 15) throws {
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
        var context = context
        context["generated"] = PageFormat.time(now)
        if refresh { context["refresh"] = refreshSeconds }
        let html = library.render(context, withTemplate: template) ?? "template \(template) is missing\n"
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        if let timing = HTTPField.Name("Server-Timing") { headers[timing] = String(format: "render;dur=%.2f", milliseconds) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that says what went wrong (not found, a bad query) and links back.
    func message(
        _ title: String, _ message: String, status: HTTPResponse.Status, started: ContinuousClock.Instant, now: Date
    ) -> Response {
        page("message", ["title": title, "message": message], status: status, refresh: false, started: started, now: now)
    }
}
