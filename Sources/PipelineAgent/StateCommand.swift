import ArgumentParser
import Foundation
import Reconciler

/// `pipeline-agent state …`: operate on the agent's state directory.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Operate on the agent's state (see docs/operations.md, \"Damaged state\").",
        subcommands: [StateRebuildCommand.self, StateCopyCommand.self]
    )
}

/// `pipeline-agent state rebuild`: a new state database from the audit log.
struct StateRebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Rebuild a lost state.sqlite from the audit log (stop the agent and move the damaged file aside first).",
        discussion: """
            Verifies the audit log's chain, then writes a new state.sqlite: each stage's current and previous \
            candidate from promotion.succeeded records, every promotion and its outcome, and the anchor at the \
            log's last record. Promotions that the log shows started but not ended are left running, and the next \
            start recovers them. Refuses while an agent runs on the state directory, when a non-empty state.sqlite \
            exists, or when the log does not verify.

            Exit status: 0 rebuilt, 1 refused (the reason is printed), 2 usage error.
            """
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        if config.state.postgres != nil {
            FileHandle.standardError.write(
                Data(
                    ("state rebuild makes state.sqlite from audit.jsonl; with state.postgres the state and its chain are "
                        + "both in the database: restore it from a backup, or copy a state in with state copy\n").utf8))
            throw ExitCode.failure
        }
        let lock = try StateDirectoryLock(directory: config.stateDirectory)
        let summary = try withExtendedLifetime(lock) { try StateRebuild.rebuild(directory: config.stateDirectory) }
        print(
            "rebuilt \(config.stateDirectory)/\(SQLiteStateStore.fileName) from \(summary.records) audit records: "
                + "\(summary.promotions) promotions (\(summary.unfinished) unfinished), \(summary.stages) stages deployed")
    }
}

/// `pipeline-agent state copy`: the whole state between SQLite and PostgreSQL.
struct StateCopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy the whole state and audit chain from one agent config's store to another's (stop the agent first).",
        discussion: """
            One config keeps its state in SQLite (state.path), the other in PostgreSQL (state.postgres.urlEnv); \
            the destination must be empty. Every table is copied (promotion ids kept) and the audit chain byte for \
            byte; then the copy's chain is verified and must end at the source's head. Refuses while an agent runs \
            on either side, when the destination holds state, or when the source's chain does not verify. Then \
            start the agent with the destination's config.

            Exit status: 0 copied and verified, 1 refused or failed (the reason is printed), 2 usage error.
            """
    )

    @Option(help: "The agent config whose state is copied.") var from: String
    @Option(help: "The agent config whose (empty) store receives it.") var to: String

    func run() throws {
        let source = try ConfigOptions.load(from)
        let destination = try ConfigOptions.load(to)
        // One lock a directory: the two configs may share their state.path (then only the store differs).
        let directories = Set([source.stateDirectory, destination.stateDirectory]).sorted()
        let locks = try directories.map { try StateDirectoryLock(directory: $0) }
        let summary = try withExtendedLifetime(locks) { try StateCopy.copy(from: source, to: destination) }
        print(
            "copied \(summary.rows) rows and \(summary.records) audit records from \(from) to \(to); "
                + "the copy verifies, head \(summary.head?.hash ?? AuditRecord.genesis)")
    }
}
