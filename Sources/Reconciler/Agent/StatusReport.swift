import Foundation

/// The stages as the state store knows them: the last pass's plan with the recorded candidates and health.
public enum StatusReport {
    /// `planned`: the plan the running agent made at its last pass, when the caller has it in memory (the agent's
    /// own page: the same plan the store holds, without decoding 1,000 pipelines' rows); else the stored one.
    public static func current(_ store: any StateReader, planned: Plan? = nil) throws -> Plan {
        var plan = try planned ?? store.lastPlan() ?? Plan(pipelines: [])
        let (records, runningNow) = try store.stagesAndRunningPromotions()
        let running = Dictionary(runningNow.map { ($0.key, $0) }, uniquingKeysWith: { $1 })
        for pipelineIndex in plan.pipelines.indices {
            let name = plan.pipelines[pipelineIndex].name
            for stageIndex in plan.pipelines[pipelineIndex].stages.indices {
                let stage = plan.pipelines[pipelineIndex].stages[stageIndex]
                let key = StageKey(name, stage.name)
                if let promotion = running[key] {
                    // The plan was saved when the pass began; the store knows the promotion is under way.
                    plan.pipelines[pipelineIndex].stages[stageIndex].phase = .promoting
                    plan.pipelines[pipelineIndex].stages[stageIndex].desired = promotion.candidate
                    plan.pipelines[pipelineIndex].stages[stageIndex].reason =
                        "promoting \(promotion.candidate.prefix(12)) (promotion \(promotion.id), since \(AuditTime.format(promotion.startedAt)))"
                }
                guard let record = records[key] else { continue }
                plan.pipelines[pipelineIndex].stages[stageIndex].current = record.current
                plan.pipelines[pipelineIndex].stages[stageIndex].health = record.health
            }
        }
        plan.source = try store.sourceState()
        if let shared = store as? PostgresStateStore { plan.agents = try shared.agents() }
        return plan
    }
}
