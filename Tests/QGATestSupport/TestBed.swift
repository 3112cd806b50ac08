import Foundation
import Glibc
import QGASystem

/// The libvirt VM test bed that `scripts/vm-testbed up` boots, described by the environment
/// it prints (scripts/test exports it before running the VM suites).
public struct TestBed: Sendable {
    public let uri: String
    public let domain: String
    public let noAgentDomain: String
    public let directSocket: String

    /// The test bed from the environment, or nil when it is not up.
    public static let current: TestBed? = {
        let env = ProcessInfo.processInfo.environment
        guard let domain = env["QGA_TESTBED_DOMAIN"], let socket = env["QGA_TESTBED_DIRECT_SOCKET"] else { return nil }
        return TestBed(
            uri: env["QGA_TESTBED_URI"] ?? "qemu:///system", domain: domain,
            noAgentDomain: env["QGA_TESTBED_NOAGENT_DOMAIN"] ?? domain + "-noagent", directSocket: socket)
    }()

    /// True when scripts/test demands the VM suites run (so a missing test bed fails).
    public static var required: Bool { ProcessInfo.processInfo.environment["QGA_TESTBED_REQUIRED"] == "1" }

    /// Runs the built qga with `-c URI` added after the subcommand.
    public func qga(_ subcommand: String, _ arguments: [String], timeout: Double = 120) throws -> ProcessResult {
        try Binaries.qga([subcommand, "-c", uri] + arguments, timeout: timeout)
    }

    /// Runs virsh on the test bed's connection.
    public func virsh(_ arguments: [String]) throws -> ProcessResult {
        try run("/usr/bin/virsh", ["-c", uri] + arguments, timeout: 60)
    }

    /// Starts the built qga in the background, its output in `log`; the caller reaps it.
    public func startQGA(_ subcommand: String, _ arguments: [String], log: String) throws -> pid_t {
        try spawnDetached(try Binaries.path("qga"), [subcommand, "-c", uri] + arguments, log: log)
    }

    /// Polls `condition` every 200 ms for up to `seconds`.
    public func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if try condition() { return true }
            usleep(200_000)
        }
        return try condition()
    }

    /// The guest's freeze status through libvirt.
    public func freezeStatus() throws -> String {
        try qga("fsfreeze", ["status", domain]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Waits for a background process and returns its exit status (128 + signal if killed).
public func waitForExit(_ pid: pid_t, timeout: Double) -> Int32? {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if let status = try? reapChild(pid) { return status.shellStatus }
        usleep(50_000)
    }
    kill(pid, SIGKILL)
    _ = try? reapChild(pid, blocking: true)
    return nil
}
