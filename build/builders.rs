//! Trims the generated code after progenitor: a type builder (`types::builder::X`) is kept only where
//! an operation takes `X` as its request body.
//!
//! typify writes a builder for every type, answers included, and those builders were 40% of the
//! generated source, compiled by every dependent. Nobody builds an answer: the operations take
//! `types::builder::X` for their bodies (`body_map`), and that is the set kept.

use quote::ToTokens;
use std::collections::BTreeSet;
use syn::{Item, ItemImpl, Type};

/// Removes the builders no operation takes, and the `X::builder()` functions that made them.
/// Returns how many builders were removed.
pub fn keep_request_body_builders(file: &mut syn::File) -> usize {
    let wanted = builders_named_outside_types(file);
    let Some(types) = module_mut(&mut file.items, "types") else {
        return 0;
    };
    let Some(builder) = module_mut(types, "builder") else {
        return 0;
    };
    let structs = |items: &[Item]| {
        items
            .iter()
            .filter(|i| matches!(i, Item::Struct(_)))
            .count()
    };
    let before = structs(builder);
    builder.retain(|item| item_type_name(item).is_none_or(|name| wanted.contains(&name)));
    let removed = before - structs(builder);
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
    removed
}

/// The names `X` of every `types::builder::X` outside the `types` module.
fn builders_named_outside_types(file: &syn::File) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for item in &file.items {
        if matches!(item, Item::Mod(m) if m.ident == "types") {
            continue;
        }
        let text = item.to_token_stream().to_string();
        for (at, _) in text.match_indices("types :: builder :: ") {
            let rest = &text[at + "types :: builder :: ".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
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
