import Foundation
import SpecModel

/// What `validate` prints: the diagnostics and a one-line summary.
struct ValidationReport: Encodable {
    let directory: String
    /// The agent config checked with the specs, if any.
    let config: String?
    let valid: Bool
    let specFiles: Int
    let pipelines: [String]
    let approvals: Int
    let errors: Int
    let warnings: Int
    let diagnostics: [Diagnostic]

    init(catalog: SpecCatalog, directory: String, config: String? = nil, configDiagnostics: [Diagnostic] = []) {
        self.directory = directory
        self.config = config
        let diagnostics = (catalog.diagnostics + configDiagnostics).sortedForDisplay()
        self.diagnostics = diagnostics
        specFiles = catalog.specFileCount
        pipelines = catalog.pipelines.map(\.pipeline.name)
        approvals = catalog.approvals.count
        errors = diagnostics.filter { $0.severity == .error }.count
        warnings = diagnostics.count - errors
        valid = errors == 0 && specFiles > 0
    }

    var passed: Bool { valid }

    func printText() {
        for diagnostic in diagnostics {
            print(diagnostic)
        }
        let summary: String
        if specFiles == 0 {
            summary =
                "error: no pipeline-agent specs found under \(directory) (looked for pipelines/*.yaml and kind: Pipeline/Approval)"
        } else {
            let names = pipelines.isEmpty ? "" : " (\(pipelines.joined(separator: ", ")))"
            summary =
                "\(valid ? "valid" : "invalid"): \(specFiles) spec file\(specFiles == 1 ? "" : "s"), "
                + "\(pipelines.count) pipeline\(pipelines.count == 1 ? "" : "s")\(names), \(approvals) approval\(approvals == 1 ? "" : "s"); "
                + (config.map { "agent config \($0); " } ?? "")
                + "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
        }
        fflush(nil)  // keep the diagnostics ahead of the summary when both go to one terminal
        FileHandle.standardError.write(Data((summary + "\n").utf8))
    }

    func printJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }
}
