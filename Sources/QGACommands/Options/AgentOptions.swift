import ArgumentParser
import QGAClient
import QGALibvirt

/// How to reach an agent, with time limits and caps; shared by every command that does.
struct AgentOptions: ParsableArguments {
    @Option(
        name: [.customShort("c"), .customLong("connect")],
        help: ArgumentHelp(
            "libvirt URI for domain targets (default: LIBVIRT_DEFAULT_URI, then qemu:///system); repeatable: a domain is then served by the first URI that has it, and --all takes the running domains of each.",
            valueName: "uri"))
    var uris: [String] = []

    @Option(
        help: ArgumentHelp(
            "The domain's agent channel to use: org.qemu.guest_agent.0 goes through libvirt, any other is reached directly at the socket the domain XML names (default: .0 if present, else the first agent socket).",
            valueName: "name"))
    var channel: String?

    @Option(
        name: .customLong("sync-timeout"),
        help: ArgumentHelp("Seconds to wait for the agent to answer the sync before each command.", valueName: "seconds"))
    var syncTimeout: Double = 5

    @Option(
        help: ArgumentHelp(
            "Seconds to wait for the command's reply (default: 30; 600 for fsfreeze and fstrim; 3 for commands that reply only on error, such as guest-shutdown).",
            valueName: "seconds"))
    var timeout: Double?

    @Option(
        name: .customLong("max-reply-size"),
        help: ArgumentHelp("Largest reply accepted, in bytes; K, M and G suffixes allowed (qemu-ga sends up to 64M).", valueName: "size"))
    var maxReplySize: ByteSize = ByteSize(bytes: CallOptions.defaultMaxReplySize)

    func validate() throws {
        guard syncTimeout > 0, syncTimeout <= 86400 else {
            throw ValidationError("--sync-timeout must be between 0 and 86400 seconds")
        }
        if let timeout, !(timeout > 0 && timeout <= 86400) {
            throw ValidationError("--timeout must be between 0 and 86400 seconds")
        }
        guard (1024...(1 << 30)).contains(maxReplySize.bytes) else {
            throw ValidationError("--max-reply-size must be between 1K and 1G")
        }
    }

    /// Connects to a target's agent: a socket directly, a domain through libvirt (the only
    /// way into the libvirt layer for commands that need just the agent).
    func connect(_ target: Target) throws(ClientError) -> any AgentConnection {
        try QGAClient.connect(to: target, options: callOptions, domains: libvirt)
    }

    /// Resolves libvirt domains with `--connect` and `--channel`; each resolver opens its
    /// own connections (once per URI).
    var libvirt: LibvirtResolver {
        LibvirtResolver(LibvirtOptions(uris: uris, channel: channel), environment: Console.environment)
    }

    var callOptions: CallOptions {
        var options = CallOptions()
        options.syncTimeout = .milliseconds(Int64((syncTimeout * 1000).rounded(.up)))
        options.timeout = timeout.map { .milliseconds(Int64(($0 * 1000).rounded(.up))) }
        options.maxReplySize = maxReplySize.bytes
        return options
    }
}

/// A size in bytes written as `1048576`, `64K`, `16M` or `1G` (powers of 1024).
struct ByteSize: ExpressibleByArgument, CustomStringConvertible {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        var text = argument.uppercased()
        if text.hasSuffix("IB") { text.removeLast(2) } else if text.hasSuffix("B") { text.removeLast() }
        var shift = 0
        switch text.last {
        case "K": shift = 10
        case "M": shift = 20
        case "G": shift = 30
        default: break
        }
        if shift > 0 { text.removeLast() }
        guard let value = Int(text), value >= 0, value <= (Int.max >> shift) else { return nil }
        bytes = value << shift
    }

    var description: String {
        for (shift, suffix) in [(30, "G"), (20, "M"), (10, "K")] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(suffix)"
        }
        return "\(bytes)"
    }

    var defaultValueDescription: String { description }
}
