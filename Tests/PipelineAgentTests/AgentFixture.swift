import Foundation
import TestSupport

/// A team repository, a bare remote and an agent config, for end-to-end runs of the real binary.
final class AgentFixture: @unchecked Sendable {
    let git: GitFixture
    let remote: String
    /// The config the agent runs with; a test may point it at another file.
    var configPath: String
    var root: String { git.scratch.path }
    /// How the agent is started: its binary, or a launcher in front of a copy of it (another user).
    var program = [agentBinary()]

    /// `stages` is the YAML list of stages (indented by 4 spaces) of pipeline `shop`.
    init(stages: String, paths: String = #"["app/**"]"#, extraConfig: String = "") throws {
        git = try GitFixture()
        let spec = Self.pipeline("shop", paths: paths, stages: stages)
        try git.commit("v1", files: ["pipelines/shop.yaml": spec, "app/version.txt": "v1\n"])
        remote = try git.bareClone()
        configPath = git.scratch.sub("agent.yaml")
        try git.scratch.write("agent.yaml", "source: {url: ./team.git, branch: main}\nstate: {path: ./state}\n\(extraConfig)")
    }

    /// A Pipeline document watching `main`; `stages` is its YAML list of stages, indented by 4 spaces.
    static func pipeline(_ name: String, paths: String, stages: String) -> String {
        """
        apiVersion: pipeline-agent/v1
        kind: Pipeline
        metadata: {name: \(name)}
        spec:
          source: {branch: main, paths: \(paths)}
          stages:
        \(stages)

        """
    }

    /// Commits files in the work tree and pushes them to the remote; returns the commit id.
    @discardableResult
    func push(_ message: String, files: [String: String]) throws -> String {
        let id = try git.commit(message, files: files)
        try git.git("push", "-q", remote, "main")
        return id
    }

    func agent(_ arguments: String..., environment: [String: String] = [:]) throws -> ProcessResult {
        try runProcess(program + arguments + ["--config", configPath], environment: environment)
    }

    /// The stages of `status --output json`, by name.
    func status(environment: [String: String] = [:]) throws -> [String: [String: Any]] {
        let result = try agent("status", "--output", "json", environment: environment)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let pipelines = object?["pipelines"] as? [[String: Any]] ?? []
        let stages = pipelines.first?["stages"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: stages.compactMap { stage in (stage["name"] as? String).map { ($0, stage) } })
    }

    func auditTypes() throws -> [String] {
        try agent("audit", "log", "--output", "json").stdout.split(separator: "\n").compactMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["type"] as? String
        }
    }
}

/// A stage (YAML, indented for `stages:`) that copies app/version.txt to `$PA_ROOT/<name>` and
/// fails verification when the version says "bad". `extra` lines are stage keys, without indentation.
func deployStage(_ name: String, from: String? = nil, strict: Bool = true, extra: [String] = []) -> String {
    var lines = ["    - name: \(name)"]
    if let from { lines += ["      from: \(from)", "      soak: 0s"] }
    lines += [
        "      steps:",
        #"        - {name: deploy, run: 'mkdir -p "$PA_ROOT/NAME" && cp app/version.txt "$PA_ROOT/NAME/version.txt"'}"#,
        "      verify:",
        strict
            ? #"        - {name: not-bad, run: '! grep -q bad "$PA_ROOT/NAME/version.txt"'}"#
            : #"        - {name: has-version, run: 'test -s "$PA_ROOT/NAME/version.txt"'}"#,
    ].map { $0.replacingOccurrences(of: "NAME", with: name) }
    lines += extra.map { "      " + $0 }
    return lines.joined(separator: "\n")
}
