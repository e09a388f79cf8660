using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Millrace.Server.Tests.Metrics;

/// <summary>One sample line.</summary>
public sealed record PromSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var v) ? v : "";
}

/// <summary>One metric family: its TYPE, HELP and samples.</summary>
public sealed record PromFamily(string Name, string Type, string Help, List<PromSample> Samples);

/// <summary>
/// A strict parser of the Prometheus text exposition format 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/): names and label names by the
/// format's grammar, label values with only \\, \" and \n escapes, values as Go floats (+Inf, -Inf, NaN),
/// optional integer timestamps, at most one HELP and one TYPE per family and both before its samples,
/// a family's samples contiguous, no duplicate series, histograms with an le label on every bucket,
/// cumulative buckets, a +Inf bucket equal to _count, and a _sum. Any violation throws FormatException
/// naming the line.
/// </summary>
public static partial class PrometheusParser
{
    private static readonly string[] Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    public static Dictionary<string, PromFamily> Parse(string text)
    {
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("The exposition must end with a line feed.");
        }

        var families = new Dictionary<string, PromFamily>(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length - 1; n++)
        {
            var line = lines[n];
            var where = $"line {n + 1} ('{line}')";
            if (line.Contains('\r', StringComparison.Ordinal))
            {
                throw new FormatException($"{where}: carriage return; lines end with \\n only.");
            }

            if (line.Trim().Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[0] == "#" && parts[1] is "HELP" or "TYPE")
                {
                    var name = parts[2];
                    if (!MetricName().IsMatch(name))
                    {
                        throw new FormatException($"{where}: '{name}' is not a metric name.");
                    }

                    SwitchTo(name, where);
                    var family = families.TryGetValue(name, out var f) ? f : families[name] = new PromFamily(name, "untyped", "", []);
                    if (parts[1] == "TYPE")
                    {
                        var type = parts.Length == 4 ? parts[3] : "";
                        if (!Types.Contains(type))
                        {
                            throw new FormatException($"{where}: unknown type '{type}'.");
                        }

                        if (family.Samples.Count > 0 || family.Type != "untyped")
                        {
                            throw new FormatException($"{where}: TYPE must come once, before the family's samples.");
                        }

                        families[name] = family with { Type = type };
                    }
                    else
                    {
                        if (family.Help.Length > 0)
                        {
                            throw new FormatException($"{where}: a second HELP for {name}.");
                        }

                        families[name] = family with { Help = Unescape(parts.Length == 4 ? parts[3] : "", help: true, where) };
                    }
                }

                continue;   // other comments are allowed
            }

            var sample = ParseSample(line, where);
            var familyName = FamilyOf(sample.Name, families);
            SwitchTo(familyName, where);
            if (!families.TryGetValue(familyName, out var fam))
            {
                fam = families[familyName] = new PromFamily(familyName, "untyped", "", []);
            }

            var id = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
            if (!series.Add(id))
            {
                throw new FormatException($"{where}: duplicate series {id}.");
            }

            fam.Samples.Add(sample);
        }

        foreach (var family in families.Values.Where(f => f.Type == "histogram"))
        {
            CheckHistogram(family);
        }

        return families;

        void SwitchTo(string name, string where)
        {
            if (current == name)
            {
                return;
            }

            if (finished.Contains(name))
            {
                throw new FormatException($"{where}: the samples of {name} are not contiguous.");
            }

            if (current is not null)
            {
                finished.Add(current);
            }

            current = name;
        }
    }

    private static string FamilyOf(string sampleName, Dictionary<string, PromFamily> families)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal) && families.TryGetValue(sampleName[..^suffix.Length], out var f) && f.Type is "histogram" or "summary")
            {
                return f.Name;
            }
        }

        return sampleName;
    }

    private static PromSample ParseSample(string line, string where)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        var name = line[..i];
        if (!MetricName().IsMatch(name))
        {
            throw new FormatException($"{where}: '{name}' is not a metric name.");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i < line.Length && line[i] == '}')
                {
                    i++;
                    break;
                }

                var eq = line.IndexOf('=', i);
                if (eq < 0)
                {
                    throw new FormatException($"{where}: a label without '='.");
                }

                var labelName = line[i..eq];
                if (!LabelName().IsMatch(labelName) || labelName.StartsWith("__", StringComparison.Ordinal))
                {
                    throw new FormatException($"{where}: '{labelName}' is not a label name.");
                }

                if (eq + 1 >= line.Length || line[eq + 1] != '"')
                {
                    throw new FormatException($"{where}: the value of label {labelName} is not quoted.");
                }

                var value = new StringBuilder();
                var j = eq + 2;
                for (; ; j++)
                {
                    if (j >= line.Length)
                    {
                        throw new FormatException($"{where}: unterminated value of label {labelName}.");
                    }

                    if (line[j] == '\\')
                    {
                        j++;
                        value.Append(j < line.Length ? line[j] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            var c => throw new FormatException($"{where}: invalid escape \\{c} in label {labelName}."),
                        } : throw new FormatException($"{where}: dangling backslash."));
                    }
                    else if (line[j] == '"')
                    {
                        break;
                    }
                    else
                    {
                        value.Append(line[j]);
                    }
                }

                if (!labels.TryAdd(labelName, value.ToString()))
                {
                    throw new FormatException($"{where}: label {labelName} given twice.");
                }

                i = j + 1;
                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
                else if (i >= line.Length || line[i] != '}')
                {
                    throw new FormatException($"{where}: expected ',' or '}}' after label {labelName}.");
                }
            }
        }

        if (i >= line.Length || line[i] != ' ')
        {
            throw new FormatException($"{where}: expected a space before the value.");
        }

        var rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2)
        {
            throw new FormatException($"{where}: expected a value and an optional timestamp.");
        }

        if (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw new FormatException($"{where}: '{rest[1]}' is not a timestamp.");
        }

        return new PromSample(name, labels, ParseValue(rest[0], where));
    }

    private static double ParseValue(string text, string where) => text switch
    {
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ when FloatValue().IsMatch(text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        _ => throw new FormatException($"{where}: '{text}' is not a value."),
    };

    private static string Unescape(string text, bool help, string where)
    {
        var result = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                result.Append(text[i]);
                continue;
            }

            i++;
            result.Append(i < text.Length ? text[i] switch
            {
                '\\' => '\\',
                'n' => '\n',
                var c => throw new FormatException($"{where}: invalid escape \\{c} in {(help ? "HELP" : "text")}."),
            } : throw new FormatException($"{where}: dangling backslash."));
        }

        return result.ToString();
    }

    private static void CheckHistogram(PromFamily family)
    {
        var bySeries = family.Samples.GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)));
        foreach (var series in bySeries)
        {
            var buckets = series.Where(s => s.Name == family.Name + "_bucket").ToArray();
            if (buckets.Any(b => !b.Labels.ContainsKey("le")))
            {
                throw new FormatException($"{family.Name}: a bucket without an le label.");
            }

            var ordered = buckets.Select(b => (Le: ParseValue(b.Labels["le"], family.Name), b.Value)).OrderBy(b => b.Le).ToArray();
            if (ordered.Length == 0 || !double.IsPositiveInfinity(ordered[^1].Le))
            {
                throw new FormatException($"{family.Name}{{{series.Key}}}: no +Inf bucket.");
            }

            for (var k = 1; k < ordered.Length; k++)
            {
                if (ordered[k].Value < ordered[k - 1].Value)
                {
                    throw new FormatException($"{family.Name}{{{series.Key}}}: buckets are not cumulative at le={ordered[k].Le}.");
                }
            }

            var count = series.SingleOrDefault(s => s.Name == family.Name + "_count") ?? throw new FormatException($"{family.Name}{{{series.Key}}}: no _count.");
            _ = series.SingleOrDefault(s => s.Name == family.Name + "_sum") ?? throw new FormatException($"{family.Name}{{{series.Key}}}: no _sum.");
            if (count.Value != ordered[^1].Value)
            {
                throw new FormatException($"{family.Name}{{{series.Key}}}: _count {count.Value} differs from the +Inf bucket {ordered[^1].Value}.");
            }
        }
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")]
    private static partial Regex FloatValue();
}
