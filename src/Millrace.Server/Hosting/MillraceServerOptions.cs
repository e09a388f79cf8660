namespace Millrace.Server;

/// <summary>
/// The server's settings, bound from the configuration section <c>Millrace:Server</c>
/// (appsettings.json, environment variables such as <c>Millrace__Server__Urls</c>, or flags).
/// </summary>
public sealed class MillraceServerOptions
{
    /// <summary>The configuration section: <c>Millrace:Server</c>.</summary>
    public const string SectionName = "Millrace:Server";

    /// <summary>Where Kestrel listens when the server is built by <see cref="MillraceServerApp.Build"/> (semicolon-separated). Default <c>http://127.0.0.1:8080</c>.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Who may call the server.</summary>
    public MillraceServerAuthOptions Auth { get; set; } = new();

    /// <summary>The queue <c>POST /api/v1/tasks</c> publishes to when the request names none. Default <c>default</c>.</summary>
    public string DefaultQueue { get; set; } = "default";

    /// <summary>How many entries the audit stream keeps (older ones are trimmed). Default 10,000.</summary>
    public int AuditMaxLength { get; set; } = 10_000;

    /// <summary>Whether <c>/metrics</c> answers without a key (for scrapers that cannot send one). Default false: a viewer key is needed.</summary>
    public bool MetricsAllowAnonymous { get; set; }

    /// <summary>How often queue gauges (depth, lag, pending, delayed, dead letters) and the live feed are refreshed. Default 1 s.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Readiness fails when a consumer running in this process has not fetched for this long. Default 30 s.</summary>
    public TimeSpan WorkerFetchStaleAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Optional OTLP export of the <c>Millrace</c> metrics and traces; off unless an endpoint is set.</summary>
    public MillraceOtlpOptions Otlp { get; set; } = new();
}

/// <summary>OTLP export (OpenTelemetry protocol) of the <c>Millrace</c> meter and activity source.</summary>
public sealed class MillraceOtlpOptions
{
    /// <summary>The collector, e.g. <c>http://127.0.0.1:4318</c> (HTTP/protobuf) or <c>http://127.0.0.1:4317</c> (gRPC). Null: no export.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary><c>HttpProtobuf</c> (default) or <c>Grpc</c>.</summary>
    public string Protocol { get; set; } = "HttpProtobuf";

    /// <summary>How often metrics are exported. Default 10 s.</summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether traces (publish and process activities) are exported too. Default true.</summary>
    public bool Traces { get; set; } = true;
}

/// <summary>API keys and the unsafe switch that turns authentication off.</summary>
public sealed class MillraceServerAuthOptions
{
    /// <summary>The API keys (name, secret key, role). With none configured and auth on, <see cref="MillraceServerApp"/> generates an admin key at start and logs it once.</summary>
    public IList<MillraceApiKey> Keys { get; } = new List<MillraceApiKey>();

    /// <summary>
    /// Turns authentication and authorization off: anyone who can reach the port is an admin.
    /// Only for a developer's own machine; a warning is logged at start.
    /// </summary>
    public bool DisableAuthUnsafeForLocalDevelopment { get; set; }

    /// <summary>How long a dashboard sign-in lasts. Default 12 h.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);
}

/// <summary>One API key.</summary>
public sealed class MillraceApiKey
{
    /// <summary>Who holds the key; written to the audit log as "who".</summary>
    public string Name { get; set; } = "";

    /// <summary>The secret, sent in <c>X-Api-Key</c> or <c>Authorization: Bearer</c>. At least 16 characters.</summary>
    public string Key { get; set; } = "";

    /// <summary>What the key may do.</summary>
    public MillraceRole Role { get; set; } = MillraceRole.Viewer;
}

/// <summary>What a key may do; each role includes the ones below it.</summary>
public enum MillraceRole
{
    /// <summary>Reads everything: queues, tasks, dead letters, workers, stats, audit, metrics.</summary>
    Viewer = 0,

    /// <summary>Also publishes, requeues and deletes dead letters, pauses and resumes, stops and resumes messages, cleans up.</summary>
    Operator = 1,

    /// <summary>Also terminates queues, purges dead-letter queues and changes concurrency and rate limits.</summary>
    Admin = 2,
}
