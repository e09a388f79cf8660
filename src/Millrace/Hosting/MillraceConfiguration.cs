using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Millrace.Redis;

namespace Millrace;

/// <summary>Configuration-based registration: appsettings.json, environment variables and flags, as .NET hosts layer them.</summary>
public static class MillraceConfiguration
{
    /// <summary>The configuration section Millrace reads: <c>Millrace</c>.</summary>
    public const string SectionName = "Millrace";

    /// <summary>
    /// Adds Millrace with its settings bound from the <c>Millrace</c> section of <paramref name="configuration"/>
    /// (for example <c>Millrace:Redis</c>, <c>Millrace:KeyPrefix</c>, <c>Millrace:Queues:orders:Partitions</c>).
    /// The seeds' variables <c>REDIS_MODE</c>, <c>REDIS_ADDRS</c>, <c>REDIS_MASTER_NAME</c> and <c>REDIS_PASSWORD</c>
    /// (plus <c>REDIS_USERNAME</c>, <c>REDIS_TLS</c>, <c>REDIS_TLS_CA_FILE</c>, <c>REDIS_DB</c>) replace
    /// <c>Millrace:Redis</c> when <c>REDIS_ADDRS</c> is set. Invalid settings stop the host at start with a
    /// message naming the setting.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The root configuration (or any configuration holding a <c>Millrace</c> section).</param>
    /// <param name="configure">Applied after the configuration, so code has the last word.</param>
    /// <example>
    /// <code>
    /// builder.Services.AddMillrace(builder.Configuration)
    ///     .AddConsumer("orders")
    ///     .AddHandler&lt;OrderCreated, OrderCreatedHandler&gt;();
    /// </code>
    /// </example>
    public static MillraceBuilder AddMillrace(this IServiceCollection services, IConfiguration configuration, Action<MillraceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddMillrace(options =>
        {
            Bind(configuration, options);
            configure?.Invoke(options);
        });
    }

    /// <summary>
    /// Binds the <c>Millrace</c> section and the seeds' <c>REDIS_*</c> variables onto <paramref name="options"/>.
    /// A value that cannot be converted throws <see cref="InvalidOperationException"/> naming its path.
    /// </summary>
    public static void Bind(IConfiguration configuration, MillraceOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);

        // The default retry policy is a shared preset; bind into a private copy, never into the preset.
        options.Retry = RetryPolicy.Copy(options.Retry);
        var section = configuration.GetSection(SectionName);
        section.Bind(options, binder => binder.ErrorOnUnknownConfiguration = false);

        // The binder skips a dictionary entry whose value does not convert; bind each queue on its own so
        // a bad value stops the start with its path (Millrace:Queues:orders:Partitions) instead of vanishing.
        foreach (var queue in section.GetSection("Queues").GetChildren())
        {
            var settings = new QueueOptions();   // fresh: binding again into the first result would append to its lists
            queue.Bind(settings, binder => binder.ErrorOnUnknownConfiguration = true);
            options.Queues[queue.Key] = settings;
        }

        foreach (var type in section.GetSection("RetryByType").GetChildren())
        {
            options.RetryByType[type.Key] = type.Get<RetryPolicy>(binder => binder.ErrorOnUnknownConfiguration = true) ?? new RetryPolicy();
        }

        var fromSeedVariables = RedisOptions.FromEnvironment(key => configuration[key]);
        if (fromSeedVariables is not null)
        {
            options.RedisOptions = fromSeedVariables;
        }
    }
}
