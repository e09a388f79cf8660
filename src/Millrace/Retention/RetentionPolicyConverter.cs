using System.ComponentModel;
using System.Globalization;

namespace Millrace;

/// <summary>
/// Lets configuration name a retention class instead of giving its values
/// (<c>"Retention": "high"</c>); the configuration binder uses type converters for plain values.
/// </summary>
internal sealed class RetentionPolicyConverter : TypeConverter
{
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string name ? RetentionPolicy.FromName(name) : base.ConvertFrom(context, culture, value);
}
