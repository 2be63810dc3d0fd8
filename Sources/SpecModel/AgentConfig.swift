import Foundation
import Yams

/// The agent's own configuration: it lives with the agent, never in the watched repository,
/// and holds the trust root (allowed signers, the protect floor, secrets).
public struct AgentConfig: Sendable, Hashable, Codable {
    public var source: SourceConfig
    public var state: StateConfig
    public var trust: TrustConfig?
    public var http: HTTPConfig?
    public var notifications: [String: NotificationChannel]?
    public var secrets: [String: SecretGrant]?
    public var protect: [ProtectRule]?
    /// How long a running step may finish after SIGTERM before it is killed (default 10s).
    public var shutdownGrace: SpecDuration?
    /// Where steps run: as which OS users, and where their checkouts are made.
    public var execution: ExecutionConfig?
    /// Where signed checkpoints of the audit chain's head go, out of the host's reach.
    public var witness: WitnessConfig?
    /// Several agents on one PostgreSQL database: how long a silent agent keeps its claims.
    public var ha: HAConfig?

    /// The file this configuration was read from; relative paths resolve against its directory.
    public var baseDirectory: String = "."
    /// The config file as given, and where each value sits in it (keyed like `protect[0].stage`).
    public var file: String = ""
    public var locations: [String: SourceLocation] = [:]

    enum CodingKeys: String, CodingKey {
        case source, state, trust, http, notifications, secrets, protect, shutdownGrace, execution, witness, ha
    }

    /// A path from the config, made absolute against the config file's directory.
    public func resolve(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return (expanded as NSString).standardizingPath }
        return ((baseDirectory as NSString).appendingPathComponent(expanded) as NSString).standardizingPath
    }

    /// The state directory, absolute.
    public var stateDirectory: String { resolve(state.path) }

    /// Where checkouts are made: `execution.workDirectory`, or a sibling of the state directory
    /// (`<state>-work`), because the state directory itself is the agent's alone (0700).
    public var workDirectory: String { execution?.workDirectory.map(resolve) ?? stateDirectory + "-work" }
}

/// Signed checkpoints of the audit chain's head (`docs/audit.md`, "Witness checkpoints").
public struct WitnessConfig: Sendable, Hashable, Codable {
    /// A file to append checkpoints to, on another mount or host (NFS, an append-only volume).
    public var file: String?
    /// A `webhook` notification channel to post each checkpoint to (e.g. `audit-sink`).
    public var channel: String?
    /// How often a checkpoint is sent while the chain grows (default 1h); one also follows each promotion.
    public var interval: SpecDuration?
}

/// Several agents sharing one PostgreSQL store (`docs/operations.md`, "Several agents").
public struct HAConfig: Sendable, Hashable, Codable {
    /// How long an agent that stopped renewing keeps its claims before another recovers them (default 30s).
    public var leaseTimeout: SpecDuration?

    /// The lease in force, in seconds (at least 3: a heartbeat goes every third of it).
    public var leaseSeconds: Double { leaseTimeout.map { max(3, Double($0.milliseconds) / 1000) } ?? Self.defaultLeaseSeconds }
    /// Without `leaseTimeout`.
    public static let defaultLeaseSeconds: Double = 30
}

/// Where steps run (`docs/operations.md`, "Isolation").
public struct ExecutionConfig: Sendable, Hashable, Codable {
    /// The OS user steps, checks, rollback, health and observe commands run as.
    public var stepUser: String?
    /// Users by `pipeline/stage` glob (`"*/prod": pa-prod`); the first match in key order wins.
    public var users: [String: String]?
    /// Refuse to start when steps would run as the agent's own user.
    public var requireIsolation: Bool?
    /// Where checkouts are made (default `<state>-work`).
    public var workDirectory: String?
    /// How many promotions run at once (default 4): different stages, never two as one step user.
    public var maxConcurrentPromotions: Int?
    /// The `setpriv` that switches users (default `/usr/bin/setpriv`); for an agent that is not root, a copy
    /// holding `cap_setuid,cap_setgid` that only the agent's group may run (docs/operations.md, "Isolation").
    public var setpriv: String?

    /// The limit in force.
    public var concurrentPromotions: Int { max(1, maxConcurrentPromotions ?? 4) }

    public init(stepUser: String? = nil, users: [String: String]? = nil, requireIsolation: Bool? = nil) {
        self.stepUser = stepUser
        self.users = users
        self.requireIsolation = requireIsolation
    }
}

/// The watched repository.
public struct SourceConfig: Sendable, Hashable, Codable {
    public var url: String
    public var branch: String?
    public var pollInterval: SpecDuration?
    public var tokenEnv: String?
    public var sshKey: String?
}

/// Where the agent keeps its state.
public struct StateConfig: Sendable, Hashable, Codable {
    public var path: String
    /// How long a finished promotion's step logs are kept (default 90 days).
    public var logRetention: SpecDuration?
    /// The state and the audit chain in PostgreSQL instead of `state.sqlite` and `audit.jsonl`.
    public var postgres: PostgresConfig?
}

/// Where the PostgreSQL state store is: the connection URI is a secret (it may hold a password).
public struct PostgresConfig: Sendable, Hashable, Codable {
    /// The environment variable holding the libpq connection URI.
    public var urlEnv: String
}

/// The trust root for approvals.
public struct TrustConfig: Sendable, Hashable, Codable {
    public var allowedSigners: String
}

/// The HTTP listener.
public struct HTTPConfig: Sendable, Hashable, Codable {
    public var listen: String
    public var webhookSecretEnv: String?
    /// The environment variable holding the token that the web page, the status API and the metrics require.
    public var readTokenEnv: String?
}

/// A notification destination; secrets are named by environment variable.
public struct NotificationChannel: Sendable, Hashable, Codable {
    public var type: String
    public var url: String?
    public var urlEnv: String?
    public var routingKeyEnv: String?
    public var hmacSecretEnv: String?
}

/// A secret read from the agent's environment and granted to some stages.
public struct SecretGrant: Sendable, Hashable, Codable {
    public var env: String
    public var stages: [String]?
}

/// A policy floor for matching pipelines and stages.
public struct ProtectRule: Sendable, Hashable, Codable {
    public var pipeline: String
    public var stage: String
    public var promotion: PromotionMode?
    public var minApprovals: Int?
    public var approvers: [String]?
    /// Whether an author of the promoted commits may approve; only the floor can allow it (default false).
    public var allowSelfApproval: Bool?

    public init(
        pipeline: String, stage: String, promotion: PromotionMode?, minApprovals: Int?, approvers: [String]?,
        allowSelfApproval: Bool? = nil
    ) {
        self.pipeline = pipeline
        self.stage = stage
        self.promotion = promotion
        self.minApprovals = minApprovals
        self.approvers = approvers
        self.allowSelfApproval = allowSelfApproval
    }
}

/// Reads and validates an agent config file.
public enum AgentConfigLoader {
    /// Why a file could not be read, in the system's words (missing, a directory, permission).
    static func reason(_ error: Error, _ path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return "it is a directory; give the YAML file"
        }
        switch (error as? CocoaError)?.code {
        case .fileReadNoSuchFile?, .fileNoSuchFile?: return "no such file (check --config)"
        case .fileReadNoPermission?: return "permission denied (the user running this must be able to read it)"
        default: return error.localizedDescription
        }
    }

    /// The config, or the located diagnostics that prevent using it.
    public static func load(path: String) -> Result<AgentConfig, ConfigError> {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let message = "cannot read the config file: \(reason(error, path))"
            return .failure(ConfigError(diagnostics: [Diagnostic(.error, file: path, at: .start, message)]))
        }
        guard let text = String(data: bytes, encoding: .utf8) else {
            return .failure(ConfigError(diagnostics: [Diagnostic(.error, file: path, at: .start, "config is not UTF-8")]))
        }
        do {
            guard let root = try SharedYAML.parser(text).singleRoot() else {
                return .failure(ConfigError(diagnostics: [Diagnostic(.error, file: path, at: .start, "config is empty")]))
            }
            var validator = StructuralValidator(file: path)
            validator.check(root, against: ConfigSchema.config, path: "", fallback: .start)
            guard validator.diagnostics.isEmpty else { return .failure(ConfigError(diagnostics: validator.diagnostics)) }
            var config = try SharedYAML.decoder.decode(AgentConfig.self, from: root)
            config.baseDirectory = (URL(fileURLWithPath: path).standardizedFileURL.path as NSString).deletingLastPathComponent
            config.file = path
            config.locations = validator.locations
            return .success(config)
        } catch {
            var file = SpecFile(path: path, bytes: Data())
            file.reportYAML(error)
            return .failure(ConfigError(diagnostics: file.diagnostics))
        }
    }
}

/// A config that cannot be used, with every reason.
public struct ConfigError: Error, CustomStringConvertible {
    public let diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
