import Foundation
import SpecModel

/// The environment a step sees: the agent's own, minus every secret it knows of, plus the
/// promotion's `PA_*` variables, the stage's vars and the secrets granted to that `pipeline/stage`.
public struct StepEnvironment: Sendable {
    private let base: [String: String]
    /// `pipeline/stage` glob → secrets (name → value).
    private let grants: [(pattern: String, secrets: [String: String])]
    /// Values that must never leave the agent in clear text.
    public let redactor: SecretRedactor

    /// Builds it from the agent's environment and config: secrets are granted per `pipeline/stage` glob,
    /// never by a bare stage name (which any new pipeline could reuse; the config schema refuses it).
    public init(config: AgentConfig, processEnvironment: [String: String] = ProcessInfo.processInfo.environment) {
        var secretVariables = Set<String>()
        var grants: [String: [String: String]] = [:]
        var values: [String] = []
        for (name, grant) in config.secrets ?? [:] {
            secretVariables.insert(grant.env)
            guard let value = processEnvironment[grant.env] else { continue }
            values.append(value)
            for stage in grant.stages ?? [] { grants[stage, default: [:]][name] = value }
        }
        let channelVariables = (config.notifications ?? [:]).values.flatMap {
            [$0.urlEnv, $0.routingKeyEnv, $0.hmacSecretEnv].compactMap { $0 }
        }
        let other =
            [config.source.tokenEnv, config.http?.webhookSecretEnv, config.http?.readTokenEnv].compactMap { $0 }
            + channelVariables
        secretVariables.formUnion(other)
        values += other.compactMap { processEnvironment[$0] }
        self.base = processEnvironment.filter { !secretVariables.contains($0.key) }
        self.grants = grants.sorted { $0.key < $1.key }.map { (pattern: $0.key, secrets: $0.value) }
        self.redactor = SecretRedactor(secrets: values)
    }

    /// The full environment for one promotion of a stage.
    func variables(for action: PromotionAction, promotionID: Int64, checkout: String) -> [String: String] {
        var environment = base
        for (name, value) in action.stage.vars ?? [:] { environment[name] = value }
        for grant in grants where ProtectFloor.glob(grant.pattern, matches: action.key.description) {
            for (name, value) in grant.secrets { environment[name] = value }
        }
        environment["PA_PIPELINE"] = action.pipeline.name
        environment["PA_STAGE"] = action.stage.name
        environment["PA_CANDIDATE"] = action.candidate
        environment["PA_PREVIOUS"] = action.previous ?? ""
        environment["PA_PROMOTION_ID"] = String(promotionID)
        environment["PA_CHECKOUT"] = checkout
        return environment
    }
}
