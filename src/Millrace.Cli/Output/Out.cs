using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Millrace.Cli.Output;

/// <summary>Where results go: tables and sentences for people, JSON for scripts (stdout); progress and errors on stderr.</summary>
internal static class Out
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static readonly Lazy<IAnsiConsole> Stdout = new(() => Make(Console.Out, Console.IsOutputRedirected));

    private static readonly Lazy<IAnsiConsole> Stderr = new(() => Make(Console.Error, Console.IsErrorRedirected));

    /// <summary>The console for results.</summary>
    public static IAnsiConsole Results => Stdout.Value;

    /// <summary>The console for progress (stderr, so stdout stays clean for pipes).</summary>
    public static IAnsiConsole Progress => Stderr.Value;

    /// <summary>Writes <paramref name="value"/> as JSON on stdout.</summary>
    public static void Json<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>Writes one line on stdout.</summary>
    public static void Line(string text) => Console.Out.WriteLine(text);

    /// <summary>Writes a table on stdout.</summary>
    public static void Table(IRenderable table) => Stdout.Value.Write(table);

    /// <summary>A table with these columns.</summary>
    public static Table NewTable(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(new Text(column, new Style(decoration: Decoration.Bold))));
        }

        return table;
    }

    /// <summary>Adds a row of plain text cells (never read as markup: payloads may hold brackets).</summary>
    public static void Row(this Table table, params object?[] cells) =>
        table.AddRow(cells.Select(c => (IRenderable)new Text(Format(c))).ToArray());

    /// <summary>A value as people read it.</summary>
    public static string Format(object? value) => value switch
    {
        null => "-",
        DateTimeOffset time => time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        TimeSpan span => Duration(span),
        bool b => b ? "yes" : "no",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "-",
    };

    /// <summary>A duration as 850 ms, 12.3 s, 4 m 10 s, 2 h 5 m.</summary>
    public static string Duration(TimeSpan span) => span.TotalSeconds switch
    {
        < 1 => $"{span.TotalMilliseconds:0} ms",
        < 60 => $"{span.TotalSeconds:0.0} s",
        < 3600 => $"{(int)span.TotalMinutes} m {span.Seconds} s",
        _ => $"{(int)span.TotalHours} h {span.Minutes} m",
    };

    private static IAnsiConsole Make(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
        {
            console.Profile.Width = 160;   // a pipe has no width; don't wrap tables at 80 columns
        }

        return console;
    }
}
