import Foundation
import Reconciler
import SpecModel

/// The overview: every pipeline as a row of its stages, with phase and health (colour and word), what
/// runs and what should, what each waits for, and where the agent's floor tightened the spec. Rendered
/// as a summary and one section a pipeline, so that an unchanged pipeline's section is reused.
enum OverviewPage {
    /// The heading: counts by phase, the source, the agents.
    static func summary(plan: Plan, now: Date) -> [String: Any] {
        var counts: [Phase: Int] = [:]
        for pipeline in plan.pipelines {
            if let phase = pipeline.phase { counts[phase, default: 0] += 1 }
            for stage in pipeline.stages { counts[stage.phase, default: 0] += 1 }
        }
        var context: [String: Any] = [
            "title": "Overview", "pipelineCount": plan.pipelines.count,
            "counts": Phase.allCases.compactMap { phase in
                counts[phase].map { ["phase": phase.rawValue, "tone": PageFormat.tone(phase), "count": $0] }
            },
        ]
        if let source = plan.source { context["source"] = self.source(source, now: now) }
        if let agents = plan.agents, !agents.isEmpty { context["agents"] = PageFormat.table(agents.map { agent($0, now: now) }) }
        if plan.pipelines.isEmpty { context["empty"] = true }
        return context
    }

    /// One pipeline's section, and whether the mirror knew every commit it names (else it is not worth keeping).
    static func section(_ pipeline: PipelinePlan, commits: CommitLookup) -> (section: PipelineSection, complete: Bool) {
        var shown = Set<String>()
        var complete = true
        let stages = pipeline.stages.map { stage in
            let (card, known) = self.stage(pipeline.name, stage, commits, shown: &shown)
            complete = complete && known
            return card
        }
        let invalid = pipeline.phase.map { phase in
            (phase: phase.rawValue, tone: PageFormat.tone(phase), reason: PageFormat.text(pipeline.reason ?? ""))
        }
        let section = PipelineSection(
            name: PageFormat.text(pipeline.name), anchor: "p-" + PageFormat.segment(pipeline.name), invalid: invalid,
            stages: stages)
        return (section, complete)
    }

    /// A stage card. A running commit's subject and author are shown at its first mention in the pipeline
    /// (`shown`), a desired one's always. The reason is left out when it only says what runs.
    static func stage(
        _ pipeline: String, _ stage: StagePlan, _ commits: CommitLookup, shown: inout Set<String>
    ) -> (card: StageCard, complete: Bool) {
        var complete = true
        func commit(_ id: String?, keepSubject: Bool) -> StageCard.Commit? {
            guard let id else { return nil }
            let summary = commits.summary(id)
            complete = complete && summary != nil
            let repeated = !shown.insert(id).inserted && !keepSubject
            return StageCard.Commit(
                short: String(id.prefix(12)), subject: repeated ? nil : summary.map { PageFormat.text($0.subject) },
                author: summary.map { PageFormat.text($0.authorName.isEmpty ? $0.authorEmail : $0.authorName) })
        }
        let current = commit(stage.current, keepSubject: false)
        // The desired commit keeps its subject: it is what the stage is about to run or waits to.
        let desired = stage.desired != stage.current ? commit(stage.desired, keepSubject: true) : nil
        let saysOnlyWhatRuns = stage.phase == .inSync && stage.reason == "running \(stage.current?.prefix(12) ?? "")"
        let card = StageCard(
            name: PageFormat.text(stage.name), href: PageFormat.stageURL(pipeline, stage.name),
            phase: stage.phase.rawValue, tone: PageFormat.tone(stage.phase), health: stage.health.rawValue,
            healthTone: PageFormat.tone(stage.health), current: current, desired: desired,
            reason: saysOnlyWhatRuns ? nil : PageFormat.text(stage.reason), floor: floorLines(stage.floor),
            stale: stage.approvals.stale.map { stale in
                (PageFormat.text(stale.approver), String(stale.commit.prefix(12)), stale.changes.map(PageFormat.text))
            })
        return (card, complete)
    }

    /// One line a `protect` rule: `floor protect[0]: promotion auto → manual; approvals.required 0 → 2` (the facts
    /// of `plan`'s lines, shorter: the overview repeats them for every protected stage).
    static func floorLines(_ tightenings: [Tightening]) -> [String] {
        var rules: [String] = []
        var changes: [String: [String]] = [:]
        for tightening in tightenings {
            if changes[tightening.rule] == nil { rules.append(tightening.rule) }
            changes[tightening.rule, default: []].append("\(tightening.field) \(tightening.spec) → \(tightening.effective)")
        }
        return rules.map { PageFormat.text("floor \($0): " + (changes[$0] ?? []).joined(separator: "; ")) }
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
            "tone": member.state == "live" ? "ok" : (member.state == "lost" ? "bad" : "unk"),
            "coordinator": member.coordinator, "heartbeat": PageFormat.age(member.lastHeartbeat, now: now),
            "running": member.running.map(PageFormat.text).joined(separator: ", "),
        ]
    }
}
