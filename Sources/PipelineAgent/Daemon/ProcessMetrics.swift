import Foundation

/// The standard `process_*` metrics of the Prometheus client libraries, read from `/proc/self` at scrape
/// time: resident memory, CPU seconds, open descriptors and their limit, start time.
enum ProcessMetrics {
    static func text() -> String {
        var lines: [String] = []
        func gauge(_ name: String, _ help: String, _ type: String, _ value: Double?) {
            guard let value else { return }
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)", "\(name) \(value)"]
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let stat = statFields()
        let cpu = stat.flatMap { fields in fields.count > 12 ? (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) : nil }
        gauge("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", "counter", cpu.map { $0 / ticks })
        gauge("process_resident_memory_bytes", "Resident memory size, in bytes.", "gauge", residentBytes())
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count
        gauge("process_open_fds", "Open file descriptors.", "gauge", fds.map(Double.init))
        var limit = rlimit()
        gauge(
            "process_max_fds", "The limit of open file descriptors.", "gauge",
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : nil)
        gauge("process_start_time_seconds", "Start time since the Unix epoch, in seconds.", "gauge", startTime(stat, ticks))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The fields of `/proc/self/stat` after the command name (which may hold spaces), from `state` on.
    private static func statFields() -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    private static func residentBytes() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({ Double($0) })
        else { return nil }
        return kilobytes * 1024
    }

    /// Boot time plus the process's start in clock ticks since boot (field 22 of stat).
    private static func startTime(_ stat: [Substring]?, _ ticks: Double) -> Double? {
        guard let stat, stat.count > 19, let started = Double(stat[19]),
            let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst(6))
        else { return nil }
        return boot + started / ticks
    }
}
