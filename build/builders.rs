//! Trims the generated code after progenitor: a type builder (`types::builder::X`) is kept only for a
//! request body and the types inside one.
//!
//! typify writes a builder for every type, answers included: a third of the generated source with
//! every API area (40% with findings and products), compiled by every dependent. Nobody builds an
//! answer: the operations take `types::builder::X` for their bodies (`body_map`), and a body's own
//! fields may be structs worth building too (`FindingCreateRequest.vulnerability_ids`).

use quote::ToTokens;
use std::collections::{BTreeMap, BTreeSet};
use syn::{Item, ItemImpl, Type};

/// How progenitor names a body's builder outside the `types` module.
const BODY_BUILDER: &str = "types :: builder :: ";
/// How a builder names another generated type in its fields.
const FIELD_TYPE: &str = "super :: ";

/// Removes the builders of types that are neither a request body nor inside one, and the
/// `X::builder()` functions that made them. Returns how many builders were removed, or why the
/// generated code does not have the shape this pass expects.
pub fn keep_request_body_builders(file: &mut syn::File) -> Result<usize, String> {
    let outside = outside_types(file);
    let bodies = names_after(&outside, BODY_BUILDER);
    let Some(types) = module_mut(&mut file.items, "types") else {
        return Ok(0);
    };
    let Some(builder) = module_mut(types, "builder") else {
        return Ok(0);
    };
    let fields: BTreeMap<String, BTreeSet<String>> = builder
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some((
                s.ident.to_string(),
                names_after(&s.to_token_stream().to_string(), FIELD_TYPE),
            )),
            _ => None,
        })
        .collect();
    if bodies.is_empty() && !fields.is_empty() && outside.contains("body_map") {
        return Err(format!(
            "operations take bodies, but no `{BODY_BUILDER}X` was found: progenitor's output changed \
             shape; update build/builders.rs"
        ));
    }
    let wanted = with_nested(bodies, &fields);

    let Some(types) = module_mut(&mut file.items, "types") else {
        return Ok(0);
    };
    let builder = module_mut(types, "builder").expect("found above");
    builder.retain(|item| item_type_name(item).is_none_or(|name| wanted.contains(&name)));
    // `impl X { pub fn builder() -> builder::X }` for a builder that is gone.
    types.retain_mut(|item| match item {
        Item::Impl(block) if block.trait_.is_none() => {
            if self_type_name(block).is_some_and(|name| !wanted.contains(&name)) {
                block
                    .items
                    .retain(|f| !matches!(f, syn::ImplItem::Fn(f) if f.sig.ident == "builder"));
            }
            !block.items.is_empty()
        }
        _ => true,
    });
    Ok(fields.keys().filter(|name| !wanted.contains(*name)).count())
}

/// The bodies and every builder-bearing type their builders' fields reach, transitively.
fn with_nested(
    bodies: BTreeSet<String>,
    fields: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeSet<String> {
    let mut wanted = BTreeSet::new();
    let mut todo: Vec<String> = bodies.into_iter().collect();
    while let Some(name) = todo.pop() {
        if wanted.insert(name.clone()) {
            let inside = fields.get(&name).into_iter().flatten();
            todo.extend(inside.filter(|n| fields.contains_key(*n)).cloned());
        }
    }
    wanted
}

/// The tokens of every item outside the `types` module, as one string.
fn outside_types(file: &syn::File) -> String {
    file.items
        .iter()
        .filter(|item| !matches!(item, Item::Mod(m) if m.ident == "types"))
        .map(|item| item.to_token_stream().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every identifier that follows `prefix` in `text`.
fn names_after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            text[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// The items of the inline module `name` among `items`.
fn module_mut<'a>(items: &'a mut [Item], name: &str) -> Option<&'a mut Vec<Item>> {
    items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

/// The type a builder-module item belongs to: a struct's name, or the type an impl is for.
fn item_type_name(item: &Item) -> Option<String> {
    match item {
        Item::Struct(s) => Some(s.ident.to_string()),
        Item::Impl(block) => self_type_name(block),
        _ => None,
    }
}

/// The last path segment of the type an impl block is for (`super::X` → `X`).
fn self_type_name(block: &ItemImpl) -> Option<String> {
    match &*block.self_ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}
