/// Every metric the exporter writes, with its help text, type and label names, in one table:
/// swift-prometheus stops the process when a name is registered again with another help text
/// or type, so nothing else names a metric.
public enum Metric: String, CaseIterable, Sendable {
    case agentUp = "qga_agent_up"
    case agentPingSeconds = "qga_agent_ping_seconds"
    case agentInfo = "qga_agent_info"
    case osInfo = "qga_os_info"
    case filesystemSizeBytes = "qga_filesystem_size_bytes"
    case filesystemUsedBytes = "qga_filesystem_used_bytes"
    case filesystemFreeBytes = "qga_filesystem_free_bytes"
    case load1 = "qga_load1"
    case load5 = "qga_load5"
    case load15 = "qga_load15"
    case cpuSecondsTotal = "qga_cpu_seconds_total"
    case diskReadBytesTotal = "qga_disk_read_bytes_total"
    case diskWrittenBytesTotal = "qga_disk_written_bytes_total"
    case diskReadsCompletedTotal = "qga_disk_reads_completed_total"
    case diskWritesCompletedTotal = "qga_disk_writes_completed_total"
    case diskIOTimeSecondsTotal = "qga_disk_io_time_seconds_total"
    case networkReceiveBytesTotal = "qga_network_receive_bytes_total"
    case networkTransmitBytesTotal = "qga_network_transmit_bytes_total"
    case networkReceivePacketsTotal = "qga_network_receive_packets_total"
    case networkTransmitPacketsTotal = "qga_network_transmit_packets_total"
    case networkReceiveErrorsTotal = "qga_network_receive_errors_total"
    case networkTransmitErrorsTotal = "qga_network_transmit_errors_total"
    case networkReceiveDroppedTotal = "qga_network_receive_dropped_total"
    case networkTransmitDroppedTotal = "qga_network_transmit_dropped_total"
    case users = "qga_users"
    case vcpus = "qga_vcpus"
    case filesystemsFrozen = "qga_filesystems_frozen"
    case pollErrorsTotal = "qga_poll_errors_total"
    case pollAgeSeconds = "qga_poll_age_seconds"
    case exporterTargets = "qga_exporter_targets"
    case libvirtUp = "qga_exporter_libvirt_up"
    case libvirtErrorsTotal = "qga_exporter_libvirt_errors_total"

    public enum Kind: Sendable { case gauge, counter }

    public var name: String { rawValue }

    /// Counters end in `_total` (Prometheus's convention, which promtool checks).
    public var kind: Kind { rawValue.hasSuffix("_total") ? .counter : .gauge }

    /// The labels every per-target metric carries first.
    public static let targetLabels = ["connection", "domain"]

    /// The label names after `connection` and `domain` (none for the exporter's own metrics,
    /// which have their own).
    public var labels: [String] {
        switch self {
        case .agentUp, .agentPingSeconds, .load1, .load5, .load15, .users, .filesystemsFrozen: []
        case .agentInfo: ["version"]
        case .osInfo: ["id", "name", "pretty_name", "version_id", "kernel_release", "machine"]
        case .filesystemSizeBytes, .filesystemUsedBytes, .filesystemFreeBytes: ["mountpoint", "type", "device"]
        case .cpuSecondsTotal: ["cpu", "mode"]
        case .diskReadBytesTotal, .diskWrittenBytesTotal, .diskReadsCompletedTotal, .diskWritesCompletedTotal,
            .diskIOTimeSecondsTotal, .networkReceiveBytesTotal, .networkTransmitBytesTotal,
            .networkReceivePacketsTotal, .networkTransmitPacketsTotal, .networkReceiveErrorsTotal,
            .networkTransmitErrorsTotal, .networkReceiveDroppedTotal, .networkTransmitDroppedTotal:
            ["device"]
        case .vcpus: ["state"]
        case .pollErrorsTotal, .pollAgeSeconds: ["command"]
        case .exporterTargets, .libvirtUp, .libvirtErrorsTotal: []
        }
    }

    /// Whether the metric belongs to one target (labelled `connection` and `domain`).
    public var perTarget: Bool {
        switch self {
        case .exporterTargets, .libvirtUp, .libvirtErrorsTotal: false
        default: true
        }
    }

    /// All label names, in the order a sample's label values are given.
    public var allLabels: [String] {
        switch self {
        case .libvirtUp, .libvirtErrorsTotal: ["connection"]
        default: (perTarget ? Metric.targetLabels : []) + labels
        }
    }

    public var help: String {
        switch self {
        case .agentUp: "Whether the guest agent answered guest-ping at the last poll (1) or not (0)."
        case .agentPingSeconds: "Round trip of the last answered guest-ping, in seconds."
        case .agentInfo: "The guest agent's version (guest-info); the value is always 1."
        case .osInfo: "The guest's operating system (guest-get-osinfo); the value is always 1."
        case .filesystemSizeBytes: "Filesystem size available to unprivileged users, in bytes (guest-get-fsinfo total-bytes)."
        case .filesystemUsedBytes: "Filesystem space used, in bytes (guest-get-fsinfo used-bytes)."
        case .filesystemFreeBytes: "Filesystem space available to unprivileged users, in bytes (size minus used)."
        case .load1: "The guest's 1-minute load average (guest-get-load)."
        case .load5: "The guest's 5-minute load average (guest-get-load)."
        case .load15: "The guest's 15-minute load average (guest-get-load)."
        case .cpuSecondsTotal: "Seconds the guest's CPUs spent in each mode (guest-get-cpustats)."
        case .diskReadBytesTotal: "Bytes read from the guest's block device (guest-get-diskstats, 512-byte sectors)."
        case .diskWrittenBytesTotal: "Bytes written to the guest's block device (guest-get-diskstats, 512-byte sectors)."
        case .diskReadsCompletedTotal: "Reads completed on the guest's block device (guest-get-diskstats)."
        case .diskWritesCompletedTotal: "Writes completed on the guest's block device (guest-get-diskstats)."
        case .diskIOTimeSecondsTotal: "Seconds the guest's block device spent doing I/O (guest-get-diskstats)."
        case .networkReceiveBytesTotal: "Bytes received on the guest's network interface."
        case .networkTransmitBytesTotal: "Bytes sent on the guest's network interface."
        case .networkReceivePacketsTotal: "Packets received on the guest's network interface."
        case .networkTransmitPacketsTotal: "Packets sent on the guest's network interface."
        case .networkReceiveErrorsTotal: "Receive errors on the guest's network interface."
        case .networkTransmitErrorsTotal: "Transmit errors on the guest's network interface."
        case .networkReceiveDroppedTotal: "Received packets dropped on the guest's network interface."
        case .networkTransmitDroppedTotal: "Packets to send dropped on the guest's network interface."
        case .users: "Users logged in to the guest (guest-get-users)."
        case .vcpus: "The guest's vCPUs by state (guest-get-vcpus)."
        case .filesystemsFrozen: "Whether the guest's filesystems are frozen (1) or thawed (0); while frozen, the last values are kept."
        case .pollErrorsTotal: "Failed polls of a guest agent command since the exporter started."
        case .pollAgeSeconds: "Seconds since the guest agent command last answered."
        case .exporterTargets: "Guest agents the exporter polls (running libvirt domains and sockets)."
        case .libvirtUp: "Whether the last listing of the libvirt connection's domains succeeded (1) or not (0)."
        case .libvirtErrorsTotal: "Failed connections to libvirt or listings of its domains since the exporter started."
        }
    }
}

/// One value of a metric for one target, with the label values after `connection` and
/// `domain`, in the order of `Metric.labels`.
public struct Sample: Sendable, Equatable {
    public var metric: Metric
    public var labels: [String]
    public var value: Double

    public init(_ metric: Metric, _ labels: [String] = [], _ value: Double) {
        self.metric = metric
        self.labels = labels
        self.value = value
    }
}
