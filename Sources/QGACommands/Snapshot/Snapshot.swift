import ArgumentParser
import QGAClient
import Glibc
import QGALibvirt

/// `qga snapshot TARGET [--name NAME] [--disk-only] [--atomic] [--allow-unquiesced]`
struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Take a quiesced libvirt snapshot of a domain.",
        discussion: """
            Creates the snapshot with VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE, so the guest agent \
            freezes the filesystems around it, and prints its name. When the agent is \
            missing or does not answer it refuses (exit 2 or 3) rather than take an \
            unquiesced snapshot, unless --allow-unquiesced is given.
            """)

    @OptionGroup(title: "Agent options") var agent: AgentOptions
    @Argument(help: ArgumentHelp("A libvirt domain (name, UUID or id).", valueName: "target"), transform: Target.argument)
    var target: Target

    @Option(help: "The snapshot's name (default: qga-YYYYMMDD-HHMMSS, UTC).") var name: String?
    @Flag(help: "Snapshot the disks only (external snapshot).") var diskOnly = false
    @Flag(help: "All disks or none (VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC).") var atomic = false
    @Flag(help: "If the agent is unavailable, take the snapshot without quiescing (says so on stderr).")
    var allowUnquiesced = false

    func validate() throws {
        guard target.isDomain else {
            throw ValidationError("snapshots need a libvirt domain as the target, not a socket")
        }
    }

    func run() throws {
        guard case .domain(let domainName) = target else { throw ClientError(.invalidRequest, "snapshots need a libvirt domain") }
        // Resolved with its agent channel, so that a domain without one is refused plainly (exit 2).
        let domain = try agent.libvirt.resolveChannel(domain: domainName, options: agent.callOptions).domain
        var flags = LibvirtDomain.SnapshotOptions()
        flags.diskOnly = diskOnly
        flags.atomic = atomic
        let name = self.name ?? defaultName()
        let deadline = agent.callOptions.seconds(for: "guest-fsfreeze-freeze") + 600
        var created: String
        do throws(ClientError) {
            created = try domain.createSnapshot(name: name, options: flags, deadlineSeconds: deadline)
        } catch {
            guard isAgentFailure(error) || error.code == .notResponding else { throw error }
            guard allowUnquiesced else {
                throw ClientError(error.code == .notResponding ? .notResponding : .unreachable, """
                    \(domain.name): cannot quiesce the guest (\(error.message)); refusing to take an \
                    unquiesced snapshot (add --allow-unquiesced to take one anyway)
                    """)
            }
            // After a timeout the first attempt may still be under way in libvirt: no retry.
            guard error.code != .notResponding else { throw error }
            Console.error("qga: warning: \(domain.name): cannot quiesce the guest (\(error.message)); taking an UNQUIESCED snapshot")
            flags.quiesce = false
            created = try domain.createSnapshot(name: name, options: flags, deadlineSeconds: deadline)
        }
        try Console.line(created)
    }

    /// libvirt reports a missing or disconnected agent as unreachable, and the agent's
    /// own refusal to freeze as an agent error.
    private func isAgentFailure(_ error: ClientError) -> Bool {
        if case .agentError = error.code { return true }
        return error.code == .unreachable
    }

    private func defaultName() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "qga-\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
    }
}
