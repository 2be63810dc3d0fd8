import Foundation
import Hummingbird
import Reconciler

/// The read-only web page: overview, stage, promotion, audit, the export and the stylesheet. Every
/// route reads through `WebSources`; none writes anything.
enum WebRoutes {
    static func add(to router: some RouterMethods<BasicRequestContext>, sources: WebSources, pages: PageRenderer) {
        router.get("/") { _, _ -> Response in
            let (started, now) = (ContinuousClock.now, Date())
            return pages.overview(try sources.status(), commits: sources.commits, started: started, now: now)
        }
        router.get("pipelines/:pipeline/stages/:stage") { _, context -> Response in
            let (started, now) = (ContinuousClock.now, Date())
            let pipeline = decoded(context.parameters.get("pipeline"))
            let stage = decoded(context.parameters.get("stage"))
            guard let page = try StagePage.context(pipeline: pipeline, stage: stage, sources: sources, now: now) else {
                return pages.message(
                    "No such stage", "The agent knows no stage \(pipeline)/\(stage).", status: .notFound, started: started,
                    now: now)
            }
            return pages.withCard(
                head: "stageHead", card: page["card"] as? StageCard, body: "stageBody", page, started: started, now: now)
        }
        router.get("promotions/:id") { _, context -> Response in
            let (started, now) = (ContinuousClock.now, Date())
            guard let id = context.parameters.get("id", as: Int64.self),
                let page = try PromotionPage.context(id: id, sources: sources, now: now)
            else {
                return pages.message(
                    "No such promotion", "The agent recorded no promotion with this number.", status: .notFound,
                    started: started, now: now)
            }
            return pages.page("promotion", page, started: started, now: now)
        }
        router.get("audit") { request, _ -> Response in
            let (started, now) = (ContinuousClock.now, Date())
            let query = AuditPage.Query(parameters(request.uri.query))
            return pages.page("audit", AuditPage.context(query, sources: sources, now: now), started: started, now: now)
        }
        addFiles(to: router, sources: sources)
    }

    /// The downloads and the stylesheet.
    private static func addFiles(to router: some RouterMethods<BasicRequestContext>, sources: WebSources) {
        router.get("audit/export.jsonl") { request, _ in try export(request, sources: sources, csv: false) }
        router.get("audit/export.csv") { request, _ in try export(request, sources: sources, csv: true) }
        router.get("static/style.css") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=300"],
                body: .init(byteBuffer: ByteBuffer(string: Stylesheet.css)))
        }
    }

    /// The records the audit page shows, as a download: JSON Lines byte for byte as stored, or CSV.
    private static func export(_ request: Request, sources: WebSources, csv: Bool) throws -> Response {
        let query = AuditPage.Query(parameters(request.uri.query))
        let records: [AuditRecord]
        do {
            records = try AuditPage.records(query, sources: sources)
        } catch let error as PageInputError {
            return Response(
                status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: error.message + "\n")))
        }
        let body = csv ? AuditCSV.render(records) : records.map { $0.canonicalLine + "\n" }.joined()
        return Response(
            status: .ok,
            headers: [
                .contentType: csv ? "text/csv; charset=utf-8" : "application/jsonl; charset=utf-8",
                .contentDisposition: #"attachment; filename="audit.\#(csv ? "csv" : "jsonl")""#,
            ],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A path parameter as the name it encodes.
    private static func decoded(_ value: String?) -> String {
        (value ?? "").removingPercentEncoding ?? (value ?? "")
    }

    /// Query parameters as a form sends them: `+` is a space, the rest percent-encoded; the first of a name wins.
    static func parameters(_ query: String?) -> [String: String] {
        var result: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0])
            if result[name] == nil { result[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }
}
