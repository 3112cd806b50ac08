/// The release both programs report (`qga --version`, `qgad --version`, guest-info), and
/// the version scripts/package gives the packages. Written here only.
public enum Release {
    public static let version = "0.1.0"
}
