import Foundation

/// The stages as the state store knows them: the last pass's plan with the recorded candidates and health.
public enum StatusReport {
    public static func current(_ store: any StateStore) throws -> Plan {
        var plan = try store.lastPlan().flatMap(Plan.decode) ?? Plan(pipelines: [])
        let records = try store.stages()
        for pipelineIndex in plan.pipelines.indices {
            let name = plan.pipelines[pipelineIndex].name
            for stageIndex in plan.pipelines[pipelineIndex].stages.indices {
                let stage = plan.pipelines[pipelineIndex].stages[stageIndex]
                guard let record = records[StageKey(name, stage.name)] else { continue }
                plan.pipelines[pipelineIndex].stages[stageIndex].current = record.current
                plan.pipelines[pipelineIndex].stages[stageIndex].health = record.health
            }
        }
        plan.source = try store.sourceState()
        return plan
    }
}
