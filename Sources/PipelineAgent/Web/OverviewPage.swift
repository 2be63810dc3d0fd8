import Foundation
import Reconciler
import SpecModel

/// The overview: every pipeline as a row of its stages, with phase and health (colour and word), what
/// runs and what should, what each waits for, and where the agent's floor tightened the spec.
enum OverviewPage {
    static func context(plan: Plan, commits: CommitLookup, now: Date) -> [String: Any] {
        let pipelines = plan.pipelines.sorted { $0.name < $1.name }
        var counts: [Phase: Int] = [:]
        for pipeline in pipelines {
            if let phase = pipeline.phase { counts[phase, default: 0] += 1 }
            for stage in pipeline.stages { counts[stage.phase, default: 0] += 1 }
        }
        var context: [String: Any] = [
            "title": "Overview",
            "pipelines": pipelines.map { pipeline($0, commits) },
            "pipelineCount": pipelines.count,
            "counts": Phase.allCases.compactMap { phase in
                counts[phase].map { ["phase": phase.rawValue, "tone": PageFormat.tone(phase), "count": $0] }
            },
        ]
        if let source = plan.source { context["source"] = self.source(source, now: now) }
        if let agents = plan.agents, !agents.isEmpty { context["agents"] = PageFormat.table(agents.map { agent($0, now: now) }) }
        if pipelines.isEmpty { context["empty"] = true }
        return context
    }

    private static func pipeline(_ pipeline: PipelinePlan, _ commits: CommitLookup) -> [String: Any] {
        var fields: [String: Any] = [
            "name": PageFormat.text(pipeline.name), "anchor": "p-" + PageFormat.segment(pipeline.name),
            "stages": pipeline.stages.map { stage(pipeline.name, $0, commits) },
        ]
        if let phase = pipeline.phase {
            fields["invalid"] = [
                "phase": phase.rawValue, "tone": PageFormat.tone(phase), "reason": PageFormat.text(pipeline.reason ?? ""),
            ]
        }
        return fields
    }

    static func stage(_ pipeline: String, _ stage: StagePlan, _ commits: CommitLookup) -> [String: Any] {
        var fields: [String: Any] = [
            "name": PageFormat.text(stage.name), "href": PageFormat.stageURL(pipeline, stage.name),
            "phase": stage.phase.rawValue, "tone": PageFormat.tone(stage.phase),
            "health": stage.health.rawValue, "healthTone": PageFormat.tone(stage.health),
            "reason": PageFormat.text(stage.reason),
            "floor": stage.floor.map { PageFormat.text($0.description) },
        ]
        if let current = PageFormat.commit(stage.current, commits) { fields["current"] = current }
        if stage.desired != stage.current, let desired = PageFormat.commit(stage.desired, commits) {
            fields["desired"] = desired
        }
        if stage.approvals.need > 0 || !stage.approvals.by.isEmpty {
            var approvals: [String: Any] = ["have": stage.approvals.have, "need": stage.approvals.need]
            if !stage.approvals.by.isEmpty { approvals["by"] = stage.approvals.by.map(PageFormat.text).joined(separator: ", ") }
            fields["approvals"] = approvals
        }
        fields["stale"] = stage.approvals.stale.map { stale in
            [
                "approver": PageFormat.text(stale.approver), "commit": String(stale.commit.prefix(12)),
                "changes": stale.changes.map(PageFormat.text),
            ] as [String: Any]
        }
        return fields
    }

    private static func source(_ source: SourceState, now: Date) -> [String: Any] {
        var fields: [String: Any] = ["url": PageFormat.text(source.url)]
        if let fetched = source.lastFetch {
            fields["lastFetch"] = PageFormat.time(fetched)
            fields["age"] = PageFormat.age(fetched, now: now)
        }
        if let error = source.lastError { fields["error"] = PageFormat.text(error) }
        return fields
    }

    private static func agent(_ member: AgentMember, now: Date) -> [String: Any] {
        [
            "instance": PageFormat.text(member.instance), "state": member.state,
            "tone": member.state == "live" ? "good" : (member.state == "lost" ? "bad" : "unknown"),
            "coordinator": member.coordinator, "heartbeat": PageFormat.age(member.lastHeartbeat, now: now),
            "running": member.running.map(PageFormat.text).joined(separator: ", "),
        ]
    }
}
