import Foundation
import Reconciler
import SpecModel

/// The audit trail: filters, paging (newest first), the chain's verification, the export.
enum AuditPage {
    static let pageSize = 100

    /// The filters as the query string gives them.
    struct Query: Sendable {
        var pipeline: String?
        var stage: String?
        var candidate: String?
        /// A type or a prefix such as `promotion.`.
        var type: String?
        var since: String?
        var until: String?
        var page = 1

        init(_ parameters: [String: String]) {
            func value(_ name: String) -> String? {
                parameters[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            }
            (pipeline, stage, candidate, type) = (value("pipeline"), value("stage"), value("candidate"), value("type"))
            (since, until) = (value("since"), value("until"))
            page = max(1, value("page").flatMap(Int.init) ?? 1)
        }

        /// The store's filter, and the time bounds it cannot express; a malformed time is an error to show.
        func filter() throws -> (AuditFilter, until: Date?) {
            let sinceDate = try since.map { try Self.date($0, name: "since") }
            let untilDate = try until.map { try Self.date($0, name: "until") }
            return (AuditFilter(pipeline: pipeline, stage: stage, candidate: candidate, since: sinceDate), untilDate)
        }

        private static func date(_ text: String, name: String) throws -> Date {
            // A bare date too: a form is filled in by hand.
            if let date = AuditFilterOptions.timeBound(text, now: Date()) ?? AuditTime.parse(text + "T00:00:00Z") {
                return date
            }
            throw PageInputError(message: "\(name) '\(text)' is neither a time (2026-11-27 or RFC 3339) nor an age (2h, 7d)")
        }

        var pairs: [(String, String?)] {
            [
                ("pipeline", pipeline), ("stage", stage), ("candidate", candidate), ("type", type), ("since", since),
                ("until", until),
            ]
        }
    }

    static func context(_ query: Query, sources: WebSources, now: Date) -> [String: Any] {
        var context: [String: Any] = [
            "title": "Audit", "chain": chain(sources.chain.report(now: now), now: now),
            "filters": query.pairs.map { ["name": $0.0, "value": PageFormat.text($0.1 ?? "")] },
            "exportJSONL": "/audit/export.jsonl" + PageFormat.query(query.pairs),
            "exportCSV": "/audit/export.csv" + PageFormat.query(query.pairs),
            "filtered": query.pairs.contains { $0.1 != nil },
        ]
        if let witness = witness(sources) { context["witness"] = witness }
        do {
            let (total, shown) = try pageOfRecords(query, sources: sources)
            let pages = max(1, (total + pageSize - 1) / pageSize)
            let page = min(query.page, pages)
            context["records"] = PageFormat.table(shown.map(row))
            context["total"] = total
            context["page"] = page
            context["pages"] = pages
            if page > 1 { context["newer"] = "/audit" + PageFormat.query(query.pairs + [("page", String(page - 1))]) }
            if page < pages { context["older"] = "/audit" + PageFormat.query(query.pairs + [("page", String(page + 1))]) }
        } catch {
            context["error"] = PageFormat.text("\(error)")
        }
        return context
    }

    /// How many records the query selects, and its page of them, newest first. Without a filter only that page
    /// is decoded.
    static func pageOfRecords(_ query: Query, sources: WebSources) throws -> (total: Int, page: [AuditRecord]) {
        let pages = { (count: Int) in min(query.page, max(1, (count + pageSize - 1) / pageSize)) }
        guard query.pairs.contains(where: { $0.1 != nil }) else {
            let lines = try sources.auditLines([])
            let shown = lines.reversed().dropFirst((pages(lines.count) - 1) * pageSize).prefix(pageSize)
            return (lines.count, try sources.decode(Array(shown)))
        }
        let matching = try records(query, sources: sources)
        return (matching.count, Array(matching.reversed().dropFirst((pages(matching.count) - 1) * pageSize).prefix(pageSize)))
    }

    /// The records the query selects, oldest first.
    static func records(_ query: Query, sources: WebSources) throws -> [AuditRecord] {
        let (filter, until) = try query.filter()
        var needles = AuditLines.needles(filter)
        if let type = query.type { needles.append(AuditLines.typeNeedle(type)) }
        return try sources.decode(try sources.auditLines(needles)).filter { record in
            guard filter.matches(record) else { return false }
            if let type = query.type, !(record.type == type || (type.hasSuffix(".") && record.type.hasPrefix(type))) {
                return false
            }
            if let until, let time = AuditTime.parse(record.time), time > until { return false }
            return true
        }
    }

    /// A record as a table row; the detail as `key=value` text, escaped like everything else.
    static func row(_ record: AuditRecord) -> [String: Any] {
        var fields: [String: Any] = [
            "seq": record.seq, "time": PageFormat.time(record.time), "type": PageFormat.text(record.type),
            "actor": PageFormat.text(record.actor), "detail": PageFormat.text(AuditTextTable.summary(record.detail)),
            "tone": tone(record.type),
        ]
        if let pipeline = record.pipeline {
            fields["pipeline"] = PageFormat.text(pipeline)
            if let stage = record.stage {
                fields["stage"] = PageFormat.text(stage)
                fields["stageHref"] = PageFormat.stageURL(pipeline, stage)
            }
        }
        if let candidate = record.candidate { fields["candidate"] = String(candidate.prefix(12)) }
        if case .int(let id) = record.detail["promotionId"] { fields["promotionHref"] = PageFormat.promotionURL(id) }
        if let agent = record.agent { fields["agent"] = PageFormat.text(agent) }
        return fields
    }

    private static func tone(_ type: String) -> String {
        switch type {
        case "promotion.failed", "verify.failed", "promotion.interrupted", "approval.rejected", "source.failed",
            "spec.invalid", "audit.repaired":
            return "bad"
        case "promotion.succeeded", "verify.passed", "approval.accepted": return "ok"
        case "gate.blocked", "rollback.started", "rollback.finished", "policy.tightened": return "wait"
        default: return "plain"
        }
    }

    /// Where checkpoints go and, for a witness file this host can read, whether every one is in the chain.
    private static func witness(_ sources: WebSources) -> [String: Any]? {
        guard let witness = sources.config.witness else { return nil }
        var fields: [String: Any] = [
            "where": PageFormat.text(
                [witness.file.map { "file \(sources.config.resolve($0))" }, witness.channel.map { "channel \($0)" }]
                    .compactMap { $0 }.joined(separator: " and "))
        ]
        guard let file = witness.file.map(sources.config.resolve), let records = try? sources.auditRecords() else {
            return fields
        }
        let keyFile = "\(sources.config.stateDirectory)/\(WitnessKey.publicFileName)"
        guard let result = WitnessFileCheck.check(file: file, keyFile: keyFile, records: records) else {
            fields["unreadable"] = true
            return fields
        }
        fields["checkpoints"] = result.checkpoints
        fields["newest"] = result.newest.map(String.init) ?? "none"
        fields["holds"] = result.problems.isEmpty
        fields["problems"] = result.problems.map(PageFormat.text)
        return fields
    }

    private static func chain(_ report: ChainReport, now: Date) -> [String: Any] {
        var fields: [String: Any] = [
            "intact": report.intact, "records": report.records, "checked": PageFormat.age(report.checkedAt, now: now),
            "headSeq": report.head?.seq ?? 0, "headHash": report.head?.hash ?? AuditRecord.genesis,
        ]
        if let problem = report.problem { fields["problem"] = PageFormat.text(problem) }
        if report.newerThanAnchor > 0 { fields["newer"] = report.newerThanAnchor }
        return fields
    }
}

/// A query value the page cannot use; shown on the page.
struct PageInputError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
