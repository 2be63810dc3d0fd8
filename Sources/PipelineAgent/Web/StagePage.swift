import Foundation
import Reconciler
import SpecModel

/// One stage: where it stands, its promotions (candidate, when, how long, outcome, who approved) and
/// its health over time.
enum StagePage {
    static let historyLimit = 100

    /// Nil when neither the plan nor the store knows the stage.
    static func context(
        pipeline: String, stage: String, sources: WebSources, now: Date
    ) throws -> [String: Any]? {
        let plan = try sources.status()
        let planned = plan.pipelines.first { $0.name == pipeline }?.stages.first { $0.name == stage }
        // What `history` shows, newest first.
        let promotions = try PromotionHistoryReport.entries(sources.store, pipeline: pipeline, stage: stage, limit: .max)
        guard planned != nil || !promotions.isEmpty else { return nil }
        let records = try sources.auditRecords(AuditFilter(pipeline: pipeline, stage: stage))
        let approvers = approversByPromotion(records)
        var context: [String: Any] = [
            "title": "\(PageFormat.text(pipeline)) / \(PageFormat.text(stage))",
            "pipeline": PageFormat.text(pipeline), "stage": PageFormat.text(stage),
            "overviewAnchor": "/#p-" + PageFormat.segment(pipeline),
            "auditHref": "/audit" + PageFormat.query([("pipeline", pipeline), ("stage", stage)]),
        ]
        context["promotions"] = PageFormat.table(
            promotions.prefix(historyLimit).map {
                row($0, approvers: approvers[$0.id] ?? [], commits: sources.commits, now: now)
            })
        context["health"] = PageFormat.table(
            records.filter { $0.type == "health.changed" }.reversed().prefix(historyLimit).map(healthRow))
        if promotions.count > historyLimit { context["olderPromotions"] = promotions.count - historyLimit }
        var shown = Set<String>()
        if let planned { context["card"] = OverviewPage.stage(pipeline, planned, sources.commits, shown: &shown).card }
        return context
    }

    private static func row(
        _ promotion: PromotionHistoryReport.Entry, approvers: [String], commits: CommitLookup, now: Date
    ) -> [String: Any] {
        var fields: [String: Any] = [
            "id": promotion.id, "href": PageFormat.promotionURL(promotion.id),
            "candidate": PageFormat.commit(promotion.candidate, commits) ?? [:],
            "started": PageFormat.time(promotion.startedAt),
            "outcome": promotion.status, "tone": PageFormat.tone(outcome: promotion.status),
            "approvers": approvers.map(PageFormat.text).joined(separator: ", "),
        ]
        if let started = AuditTime.parse(promotion.startedAt) { fields["age"] = PageFormat.age(started, now: now) }
        if let duration = promotion.durationMs { fields["duration"] = PageFormat.duration(milliseconds: duration) }
        if let reason = promotion.reason { fields["reason"] = PageFormat.text(reason) }
        return fields
    }

    private static func healthRow(_ record: AuditRecord) -> [String: Any] {
        let to = record.detail["to"]?.text ?? ""
        let checks: [String] =
            if case .object(let checks) = record.detail["checks"] {
                checks.keys.sorted().map { "\($0): \(checks[$0]?.text ?? "")" }.map(PageFormat.text)
            } else { [] }
        return [
            "time": PageFormat.time(record.time), "seq": record.seq, "from": record.detail["from"]?.text ?? "",
            "to": to, "tone": PageFormat.tone(Health(rawValue: to) ?? .unknown), "checks": checks,
        ]
    }

    /// Who approved each promotion, from its `promotion.started` record (the approvals it started on).
    static func approversByPromotion(_ records: [AuditRecord]) -> [Int64: [String]] {
        var result: [Int64: [String]] = [:]
        for record in records where record.type == "promotion.started" {
            guard case .int(let id) = record.detail["promotionId"], case .array(let approvals) = record.detail["approvals"]
            else { continue }
            result[id] = approvals.compactMap { approval in
                if case .object(let fields) = approval { return fields["principal"]?.text }
                return nil
            }
        }
        return result
    }
}

extension JSONValue {
    /// A scalar as text (`null` as nil); objects and arrays as canonical JSON.
    var text: String? {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .bool(let value): return String(value)
        case .null: return nil
        case .array, .object: return CanonicalJSON.serialize(self)
        }
    }
}
