import Foundation
import SpecModel

/// Opens the store the agent config names: `state.sqlite` in the state directory, or PostgreSQL
/// (`state.postgres.urlEnv`). Commands and the agent go through here, so both always read the same place.
public enum StateStores {
    /// The store an agent writes. With PostgreSQL any number of agents share it; each joins with a lease when its
    /// loop starts (`Membership`).
    public static func open(_ config: AgentConfig) throws -> any StateStore {
        guard let url = try postgresURL(config) else { return try SQLiteStateStore(directory: config.stateDirectory) }
        return try PostgresStateStore(url: url)
    }

    /// A store for reading (status, history, audit): never migrates or locks anything.
    public static func reader(_ config: AgentConfig) throws -> any StateReader {
        guard let url = try postgresURL(config) else {
            return try SQLiteStateStore(directory: config.stateDirectory, readOnly: true)
        }
        return try PostgresStateStore(url: url, migrate: false, retryFor: 5)
    }

    /// Every audit record of the chain the config names, filtered.
    public static func auditRecords(_ config: AgentConfig, matching filter: AuditFilter = AuditFilter()) throws -> [AuditRecord] {
        guard let url = try postgresURL(config) else {
            return try AuditReader.records(at: "\(config.stateDirectory)/\(AuditLog.fileName)", matching: filter)
        }
        return try PostgresStateStore(url: url, migrate: false, retryFor: 5).chainRecords(matching: filter)
    }

    /// Verifies the chain table of the PostgreSQL store the config names.
    public static func verifyTable(_ config: AgentConfig) throws -> AuditVerification {
        guard let url = try postgresURL(config) else {
            throw PostgresError(kind: .fatal, sqlState: nil, message: "no state.postgres")
        }
        return try PostgresStateStore(url: url, migrate: false, retryFor: 5).verifyChain()
    }

    /// The connection URI from the environment, or nil for SQLite; an unset variable is an error, not SQLite.
    static func postgresURL(_ config: AgentConfig) throws -> String? {
        guard let variable = config.state.postgres?.urlEnv else { return nil }
        guard let url = ProcessInfo.processInfo.environment[variable], !url.isEmpty else {
            throw PostgresError(
                kind: .fatal, sqlState: nil,
                message: "state.postgres.urlEnv names \(variable), which is not set (or empty) in this environment")
        }
        return url
    }
}
