import ArgumentParser
import Foundation
import Reconciler
import SpecModel

/// `pipeline-agent validate [DIR]`: the check a team runs on every pull request.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every pipeline and approval spec under a directory.",
        discussion: """
            Reads every .yaml/.yml file under DIR (hidden directories, target/, logs/, dbt_packages/ and \
            node_modules/ are skipped). Files under a pipelines/ or approvals/ directory must be specs; \
            elsewhere, a file counts when a document declares apiVersion pipeline-agent/v1 or kind \
            Pipeline/Approval. Problems are printed as `path:line:column: error: message`. \
            With --config FILE, the agent config is checked too: unknown keys and wrong types, files it \
            names (source path, sshKey, a readable allowed_signers with well-formed lines), channels, \
            secrets granted to no stage (warning), protect rules that match no stage or can never be met \
            (errors), and, located in the spec, every stage the floor makes stricter than its spec \
            (warnings: the agent runs at the floor) and every spec naming another branch than the \
            config's (error). With trust.allowedSigners, each approval file is checked as the agent will \
            judge it: its signature must verify for its approver (error), it must name a pipeline and \
            stage defined here (error), and one bound to an older version of its stage no longer counts \
            (warning) — so a pull request check catches a bad approval before it merges.

            Exit status: 0 valid (warnings allowed), 1 invalid or no specs found, 2 usage error.
            """
    )

    @Argument(help: "Directory to check (default: the current directory).")
    var directory: String = "."

    @Option(help: "Also check this agent config file against the specs under DIR.")
    var config: String?

    @Option(name: [.short, .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("'\(directory)' is not a directory")
        }
    }

    func run() throws {
        let root = URL(fileURLWithPath: directory)
        let display = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        let catalog = try SpecDirectory.catalog(under: root, display: display)
        // An unusable --config is a usage error, as in every other command (exit 2), not an invalid spec.
        if let config, case .failure(let error) = AgentConfigLoader.load(path: config),
            error.diagnostics.contains(where: { $0.message.hasPrefix("cannot read the config file") })
        {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(2)
        }
        let report = ValidationReport(
            catalog: catalog, directory: display, config: config, configDiagnostics: configDiagnostics(catalog))
        switch output {
        case .text: report.printText()
        case .json: try report.printJSON()
        }
        if !report.passed { throw ExitCode.failure }
    }
}

extension ValidateCommand {
    /// The config's own diagnostics, or the reasons it cannot be read at all.
    func configDiagnostics(_ catalog: SpecCatalog) -> [Diagnostic] {
        guard let config else { return [] }
        switch AgentConfigLoader.load(path: config) {
        case .success(let loaded):
            var found = AgentConfigCheck.diagnostics(for: loaded, catalog: catalog)
            if let trust = loaded.trust {
                found += ApprovalFileCheck.diagnostics(catalog, allowedSigners: loaded.resolve(trust.allowedSigners))
            }
            let isolation = StepIsolation.resolve(loaded.execution)
            guard !isolation.isComplete else { return found }
            let at = loaded.locations["execution"] ?? .start
            let severity: Severity = loaded.execution?.requireIsolation == true ? .error : .warning
            return found + [Diagnostic(severity, file: config, at: at, "on this host, \(isolation.summary)")]
        case .failure(let error): return error.diagnostics
        }
    }
}

/// How a command prints its result.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}
