import ArgumentParser
import Foundation
import Reconciler
import SpecModel

/// `pipeline-agent audit verify`: recompute the chain and check its anchor.
struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain and check it against the anchor in the state store.",
        discussion: """
            Works next to a running agent: records written after the anchor was read are reported, not counted as \
            damage. Without a readable state store (missing or corrupt state.sqlite) the chain's links and hashes \
            are still checked, and the output says that a cut tail could not be ruled out.

            Exit status: 0 intact, 1 broken (the first bad seq and what is wrong are printed) or the anchor could \
            not be checked, 2 usage error.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Also prove that the log holds every checkpoint in this witness file (JSON lines, see docs/audit.md).")
    var witness: String?

    @Option(help: "The agent's checkpoint public key (default: witness.pub in the state directory).")
    var witnessKey: String?

    func run() throws {
        let config = try options.load()
        if config.state.postgres != nil { return try verifyTable(config) }
        let path = "\(config.stateDirectory)/\(AuditLog.fileName)"
        let anchor: AuditAnchor?
        do {
            anchor = try SQLiteStateStore(directory: config.stateDirectory, readOnly: true).auditAnchor()
        } catch {
            return try verifyWithoutAnchor(path, because: "\(error)")
        }
        // The anchor is read before the log: a running agent writes the log first, so records after
        // the anchor (all of them, when its first anchor was not written yet) are new ones, not damage.
        let result = try verify(path, anchor: anchor, tolerating: [.anchorBehind, .noAnchor])
        print("\(result.count) records, chain intact, head \(result.head?.hash ?? AuditRecord.genesis)")
        if let witness { try checkWitness(witness, log: path, stateDirectory: config.stateDirectory) }
        if let problem = result.problem {
            let after = result.count - problem.seq + 1
            print(
                "note: \(after) records after the anchor (seq \(problem.seq - 1)): written since it was read, "
                    + "or left by a stop that the agent repairs at its next start")
        }
    }

    /// The chain in PostgreSQL: every record, and the head row that moves with them in one transaction.
    private func verifyTable(_ config: AgentConfig) throws {
        if witness != nil {
            throw ValidationError("--witness reads the audit log file; with PostgreSQL, check an `audit export -o jsonl`")
        }
        let result = try StateStores.verifyTable(config)
        if let problem = result.problem {
            print("BROKEN at seq \(problem.seq): \(problem.message)")
            throw ExitCode.failure
        }
        print("\(result.count) records, chain intact, head \(result.head?.hash ?? AuditRecord.genesis)")
    }

    /// Every witnessed head must be in the log: a log rewritten together with its anchor fails here.
    private func checkWitness(_ file: String, log: String, stateDirectory: String) throws {
        let keyFile = witnessKey ?? "\(stateDirectory)/\(WitnessKey.publicFileName)"
        guard
            let result = WitnessFileCheck.check(file: file, keyFile: keyFile, records: try AuditReader.records(at: log))
        else { throw ValidationError("cannot read the witness file \(file)") }
        let newest = result.newest.map { ", newest seq \($0)" } ?? ""
        guard result.problems.isEmpty else {
            print("witness \(file): \(result.problems.count) of \(result.lines) checkpoints do not hold:")
            result.problems.forEach { print("  \($0)") }
            throw ExitCode.failure
        }
        let keyNote = result.keyChecked ? "" : " (NOT checked against the agent's key: \(keyFile) is unreadable)"
        print("witness \(file): \(result.checkpoints) checkpoints, every witnessed head is in the log\(newest)\(keyNote)")
    }

    /// The chain alone, when the state store is unreadable: links and hashes are checked, a cut tail cannot be.
    private func verifyWithoutAnchor(_ path: String, because reason: String) throws {
        let result = try verify(path, anchor: nil, tolerating: [.noAnchor])
        print("\(result.count) records, chain links and hashes intact, head \(result.head?.hash ?? AuditRecord.genesis)")
        print("NOT checked: whether records were cut from the end; the anchor in the state store is unavailable: \(reason)")
        throw ExitCode.failure
    }

    /// Verifies the log; prints where it is broken and fails, unless the only problem is `tolerated`.
    private func verify(
        _ path: String, anchor: AuditAnchor?, tolerating tolerated: Set<AuditProblem.Kind>
    ) throws
        -> AuditVerification
    {
        let result = try AuditVerifier.verify(fileAt: path, anchor: anchor)
        guard let problem = result.problem, !tolerated.contains(problem.kind) else { return result }
        print("audit log broken at seq \(problem.seq): \(problem.kind.rawValue): \(problem.message)")
        print("(\(result.count) records verified before it; log \(path))")
        throw ExitCode.failure
    }
}

/// A witness file's checkpoints against the chain, for `audit verify --witness` and the audit page.
enum WitnessFileCheck {
    struct Result {
        let lines: Int
        let checkpoints: Int
        let newest: Int64?
        /// What does not hold, one line each; empty when every checkpoint does.
        let problems: [String]
        /// Whether the signatures were checked against the agent's public key (readable at `keyFile`).
        let keyChecked: Bool
    }

    /// Nil when the witness file cannot be read.
    static func check(file: String, keyFile: String, records: [AuditRecord]) -> Result? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }
        let checkpoints = lines.compactMap(AuditCheckpoint.parse)
        let trusted = (try? String(contentsOfFile: keyFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let problems = WitnessCheck.problems(
            checkpoints: checkpoints, unreadable: lines.count - checkpoints.count, records: records, trustedKey: trusted)
        return Result(
            lines: lines.count, checkpoints: checkpoints.count, newest: checkpoints.map(\.seq).max(), problems: problems,
            keyChecked: trusted != nil)
    }
}
