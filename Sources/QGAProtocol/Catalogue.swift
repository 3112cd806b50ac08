/// What both sides need to know about each command of the QGA schema
/// (`qga/qapi-schema.json` in QEMU). It starts with the facts that change how a command is
/// sent; argument and return types join it when `exec` becomes schema-aware.
public struct CommandInfo: Sendable, Equatable {
    /// How long a command may reasonably take, which sets the client's default timeout.
    public enum Duration: Sendable, Equatable {
        /// Answers at once.
        case quick
        /// Works on disks or processes: fsfreeze, fstrim.
        case long
    }

    public let name: String
    /// False for commands that send no reply on success (schema `success-response: false`).
    public let successResponse: Bool
    public let duration: Duration

    public init(_ name: String, successResponse: Bool = true, duration: Duration = .quick) {
        self.name = name
        self.successResponse = successResponse
        self.duration = duration
    }
}

/// The commands of the QGA schema, in schema order.
public enum Catalogue {
    public static let commands: [CommandInfo] = [
        CommandInfo("guest-sync-delimited"),
        CommandInfo("guest-sync"),
        CommandInfo("guest-ping"),
        CommandInfo("guest-get-time"),
        CommandInfo("guest-set-time"),
        CommandInfo("guest-info"),
        CommandInfo("guest-shutdown", successResponse: false),
        CommandInfo("guest-file-open"),
        CommandInfo("guest-file-close"),
        CommandInfo("guest-file-read"),
        CommandInfo("guest-file-write"),
        CommandInfo("guest-file-seek"),
        CommandInfo("guest-file-flush"),
        CommandInfo("guest-fsfreeze-status"),
        CommandInfo("guest-fsfreeze-freeze", duration: .long),
        CommandInfo("guest-fsfreeze-freeze-list", duration: .long),
        CommandInfo("guest-fsfreeze-thaw", duration: .long),
        CommandInfo("guest-fstrim", duration: .long),
        CommandInfo("guest-suspend-disk", successResponse: false),
        CommandInfo("guest-suspend-ram", successResponse: false),
        CommandInfo("guest-suspend-hybrid", successResponse: false),
        CommandInfo("guest-network-get-interfaces"),
        CommandInfo("guest-get-vcpus"),
        CommandInfo("guest-set-vcpus"),
        CommandInfo("guest-get-disks"),
        CommandInfo("guest-get-fsinfo"),
        CommandInfo("guest-set-user-password"),
        CommandInfo("guest-get-memory-blocks"),
        CommandInfo("guest-set-memory-blocks"),
        CommandInfo("guest-get-memory-block-info"),
        CommandInfo("guest-exec-status"),
        CommandInfo("guest-exec"),
        CommandInfo("guest-get-host-name"),
        CommandInfo("guest-get-users"),
        CommandInfo("guest-get-timezone"),
        CommandInfo("guest-get-osinfo"),
        CommandInfo("guest-get-devices"),
        CommandInfo("guest-ssh-get-authorized-keys"),
        CommandInfo("guest-ssh-add-authorized-keys"),
        CommandInfo("guest-ssh-remove-authorized-keys"),
        CommandInfo("guest-get-diskstats"),
        CommandInfo("guest-get-cpustats"),
        CommandInfo("guest-get-load"),
        CommandInfo("guest-network-get-route"),
    ]

    /// The entry for `name`, or nil for a command this schema does not know (it is still
    /// sent: newer agents have commands we have not heard of).
    public static func info(_ name: String) -> CommandInfo? {
        commands.first { $0.name == name }
    }
}
