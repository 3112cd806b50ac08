import Prometheus
import QGASystem

/// Turns the store's snapshots into the text exposition format. Each scrape builds a fresh
/// registry: counters are set from the guest's absolute values, and the series of vanished
/// domains, filesystems and devices simply are not there any more.
public enum Renderer {
    /// Appends the metrics of `store` as of `now` to `buffer`.
    public static func render(_ store: SnapshotStore, now: ContinuousClock.Instant = .now, into buffer: inout [UInt8]) {
        let (targets, connections) = store.copy()
        let registry = PrometheusCollectorRegistry()
        var seen = Set<SeriesKey>()

        set(.exporterTargets, [], Double(targets.count), in: registry, seen: &seen)
        for (uri, state) in connections.sorted(by: { $0.key < $1.key }) {
            set(.libvirtUp, [uri], state.up ? 1 : 0, in: registry, seen: &seen)
            set(.libvirtErrorsTotal, [uri], Double(state.errors), in: registry, seen: &seen)
        }
        for (key, snapshot) in targets.sorted(by: { $0.key < $1.key }) {
            let base = [key.connection, key.domain]
            guard let up = snapshot.up else { continue }
            set(.agentUp, base, up ? 1 : 0, in: registry, seen: &seen)
            if up, let ping = snapshot.pingSeconds { set(.agentPingSeconds, base, ping, in: registry, seen: &seen) }
            if let frozen = snapshot.frozen { set(.filesystemsFrozen, base, frozen ? 1 : 0, in: registry, seen: &seen) }
            for (command, result) in snapshot.results.sorted(by: { $0.key < $1.key }) {
                for sample in result.samples {
                    set(sample.metric, base + sample.labels, sample.value, in: registry, seen: &seen)
                }
                let age = (now - result.at).inSeconds
                set(.pollAgeSeconds, base + [command], max(0, age), in: registry, seen: &seen)
            }
            for (command, count) in snapshot.errors.sorted(by: { $0.key < $1.key }) {
                set(.pollErrorsTotal, base + [command], Double(count), in: registry, seen: &seen)
            }
        }
        registry.emit(into: &buffer)
    }

    /// The rendered text, for tests and tools.
    public static func text(_ store: SnapshotStore, now: ContinuousClock.Instant = .now) -> String {
        var bytes: [UInt8] = []
        render(store, now: now, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private struct SeriesKey: Hashable {
        var metric: Metric
        var labels: [String]
    }

    /// Registers one series from the table and sets its value. A value that cannot be
    /// written (not finite, negative, a label count that does not match the table) and a
    /// second series with the same labels are left out, so that nothing a guest sends can
    /// stop the exporter.
    private static func set(
        _ metric: Metric, _ labelValues: [String], _ value: Double, in registry: PrometheusCollectorRegistry,
        seen: inout Set<SeriesKey>
    ) {
        let names = metric.allLabels
        guard value.isFinite, value >= 0, labelValues.count == names.count else { return }
        let values = labelValues.map(boundedLabel)
        guard seen.insert(SeriesKey(metric: metric, labels: values)).inserted else { return }
        let labels = Array(zip(names, values))
        let descriptor = MetricNameDescriptor(metricName: metric.name, unitName: "", helpText: metric.help)
        switch metric.kind {
        case .gauge:
            if labels.isEmpty {
                registry.makeGauge(descriptor: descriptor).set(value)
            } else {
                registry.makeGauge(descriptor: descriptor, labels: labels).set(value)
            }
        case .counter:
            // A fresh counter per scrape: incrementing it from zero sets it.
            if labels.isEmpty {
                registry.makeCounter(descriptor: descriptor).increment(by: value)
            } else {
                registry.makeCounter(descriptor: descriptor, labels: labels).increment(by: value)
            }
        }
    }

    /// The longest label value written, in Unicode scalars (a guest names its own mount
    /// points and devices).
    public static let maxLabelLength = 256

    static func boundedLabel(_ value: String) -> String {
        let scalars = value.unicodeScalars
        guard scalars.count > maxLabelLength else { return value }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.prefix(maxLabelLength))
        return String(view)
    }
}
