// fetch-bench: the agent's first fetch alone (a fresh bare mirror filled from a URL through libgit2),
// so scripts/bench-scale.sh can set it beside `git clone --mirror` of the same URL.
//   fetch-bench <url> <new mirror directory>   prints the seconds taken
import Foundation
import GitSource

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: fetch-bench <url> <new mirror directory>\n".utf8))
    exit(2)
}
do {
    let start = Date()
    let mirror = try GitMirror.prepare(url: arguments[1], at: arguments[2])
    try mirror.fetch(branch: "main")
    print(String(format: "%.4f", Date().timeIntervalSince(start)))
} catch {
    FileHandle.standardError.write(Data("fetch-bench: \(error)\n".utf8))
    exit(1)
}
