import Foundation
import Reconciler
import SpecModel

/// One promotion's evidence: the commits it promoted, the approvals it started on (principal, key,
/// the stage digest each signed), the gates that held it, each step with its log's redacted tail, the
/// checks with their measurements, the rollback, and its audit records with their sequence numbers.
enum PromotionPage {
    static let tailLines = 30

    static func context(id: Int64, sources: WebSources, now: Date) throws -> [String: Any]? {
        guard
            let (entry, steps) = try PromotionHistoryReport.steps(
                sources.store, promotion: id, lines: tailLines, redactor: sources.redactor)
        else { return nil }
        let stageRecords = try sources.auditRecords(
            AuditFilter(pipeline: entry.pipeline, stage: entry.stage, candidate: entry.candidate))
        let own = stageRecords.filter { $0.detail["promotionId"] == .int(id) }
        let started = own.first { $0.type == "promotion.started" }
        let range = sources.commits.range(from: entry.previous, to: entry.candidate)
        var context: [String: Any] = [
            "title": "Promotion #\(id)", "id": id,
            "pipeline": PageFormat.text(entry.pipeline), "stage": PageFormat.text(entry.stage),
            "stageHref": PageFormat.stageURL(entry.pipeline, entry.stage),
            "candidate": PageFormat.commit(entry.candidate, sources.commits) ?? [:],
            "outcome": entry.status, "tone": PageFormat.tone(outcome: entry.status),
            "started": PageFormat.time(entry.startedAt),
            "commits": range.commits.map(commitRow), "steps": steps.map(stepRow),
            "checks": own.filter { $0.type.hasPrefix("verify.") }.map(checkRow),
            "approvals": approvals(started, sources: sources),
            "gates": gates(stageRecords, before: started?.seq ?? Int64.max),
            "auditHref": "/audit" + PageFormat.query([("candidate", entry.candidate), ("stage", entry.stage)]),
        ]
        context["rollback"] = PageFormat.table(own.filter { $0.type.hasPrefix("rollback.") }.map(AuditPage.row))
        context["rollbackSteps"] = steps.filter { $0.phase == "rollback" }.map(stepRow)
        context["records"] = PageFormat.table(
            stageRecords.filter { isEvidence($0, of: id, before: started?.seq) }.map(AuditPage.row))
        if let previous = PageFormat.commit(entry.previous, sources.commits) { context["previous"] = previous }
        if let ended = entry.endedAt { context["ended"] = PageFormat.time(ended) }
        if let duration = entry.durationMs { context["duration"] = PageFormat.duration(milliseconds: duration) }
        if let reason = entry.reason { context["reason"] = PageFormat.text(reason) }
        if range.more > 0 { context["moreCommits"] = range.more }
        if let note = range.note { context["rangeNote"] = PageFormat.text(note) }
        for key in ["runAs", "specDigest"] { context[key] = started?.detail[key]?.text.map(PageFormat.text) }
        context["agent"] = started?.agent.map(PageFormat.text)
        return context
    }

    /// The promotion's own records, and the approvals and gates of its candidate on the stage before it started.
    private static func isEvidence(_ record: AuditRecord, of id: Int64, before start: Int64?) -> Bool {
        if record.detail["promotionId"] == .int(id) { return true }
        guard let start, record.seq < start else { return false }
        return record.type.hasPrefix("approval.") || record.type == "gate.blocked"
    }

    private static func commitRow(_ commit: CommitSummary) -> [String: Any] {
        [
            "short": commit.short, "subject": PageFormat.text(commit.subject),
            "author": PageFormat.text(commit.authorName), "email": PageFormat.text(commit.authorEmail),
            "time": PageFormat.time(commit.time),
        ]
    }

    private static func stepRow(_ step: PromotionHistoryReport.Step) -> [String: Any] {
        var fields: [String: Any] = [
            "phase": step.phase, "name": PageFormat.text(step.name), "attempt": step.attempt,
            "duration": PageFormat.duration(milliseconds: step.durationMs), "result": step.result,
            "tone": PageFormat.tone(outcome: step.result),
            "tail": PageFormat.lines(step.tail.joined(separator: "\n")),
        ]
        if let exit = step.exitStatus { fields["exit"] = String(exit) }
        if let digest = step.outputSHA256 { fields["digest"] = digest }
        if step.tail.isEmpty { fields["noLog"] = noLog(step) }
        return fields
    }

    /// Why a step shows no log lines.
    private static func noLog(_ step: PromotionHistoryReport.Step) -> String {
        if step.log == nil { return step.phase == "verify" ? "a check of the agent's own, no process output" : "no log was kept" }
        return step.outputSHA256 == emptyDigest ? "it printed nothing" : "its log was pruned (state.logRetention)"
    }

    /// SHA-256 of no bytes: a step that printed nothing.
    static let emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    private static func checkRow(_ record: AuditRecord) -> [String: Any] {
        let level = record.detail["level"]?.text ?? (record.type == "verify.passed" ? "passed" : "failed")
        return [
            "check": PageFormat.text(record.detail["check"]?.text ?? "?"), "level": level,
            "tone": PageFormat.tone(outcome: level), "measured": record.detail["measured"]?.text ?? "-",
            "message": PageFormat.text(record.detail["message"]?.text ?? ""), "seq": record.seq,
        ]
    }

    /// The approvals the promotion started on, each with the stage digest its signed file binds to.
    private static func approvals(_ started: AuditRecord?, sources: WebSources) -> [[String: Any]] {
        guard case .array(let approvals) = started?.detail["approvals"] else { return [] }
        return approvals.compactMap { approval -> [String: Any]? in
            guard case .object(let fields) = approval else { return nil }
            let file = fields["file"]?.text ?? ""
            let addedIn = fields["addedIn"]?.text ?? ""
            var row: [String: Any] = [
                "principal": PageFormat.text(fields["principal"]?.text ?? "?"),
                "fingerprint": PageFormat.text(fields["keyFingerprint"]?.text ?? "?"),
                "file": PageFormat.text(file), "addedIn": String(addedIn.prefix(12)),
            ]
            if let digest = sources.commits.file(file, at: addedIn).flatMap(stageDigest) { row["stageDigest"] = digest }
            return row
        }
    }

    /// The `stageDigest:` of an approval file.
    static func stageDigest(_ text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("stageDigest:") {
            return PageFormat.text(line.dropFirst("stageDigest:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// What held the candidate on this stage before it started, one row per distinct reason.
    private static func gates(_ records: [AuditRecord], before start: Int64) -> [[String: Any]] {
        var seen = Set<String>()
        return records.filter { $0.type == "gate.blocked" && $0.seq < start }.compactMap { record in
            let reason = record.detail["reason"]?.text ?? ""
            guard seen.insert(reason).inserted else { return nil }
            return [
                "phase": record.detail["phase"]?.text ?? "", "reason": PageFormat.text(reason), "seq": record.seq,
                "time": PageFormat.time(record.time),
            ]
        }
    }
}
