//! The one way a filter may change tokens: rewrite their text. [`MapFilter`] wraps any tokenizer
//! and applies a [`TextMap`] to each token as it passes; offsets, positions and the number of tokens
//! are untouched by construction.

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// A rewrite of a token's text.
pub trait TextMap: Clone + Send + Sync + 'static {
    /// Rewrites `text` in place.
    fn map(&self, text: &mut String);
}

/// A [`TokenFilter`] that applies a [`TextMap`] to every token.
#[derive(Clone, Copy, Debug)]
pub struct MapFilter<M>(pub M);

impl<M: TextMap> TokenFilter for MapFilter<M> {
    type Tokenizer<T: Tokenizer> = MapTokenizer<M, T>;

    fn transform<T: Tokenizer>(self, inner: T) -> MapTokenizer<M, T> {
        MapTokenizer { map: self.0, inner }
    }
}

/// A tokenizer followed by a [`TextMap`].
#[derive(Clone)]
pub struct MapTokenizer<M, T> {
    map: M,
    inner: T,
}

impl<M: TextMap, T: Tokenizer> Tokenizer for MapTokenizer<M, T> {
    type TokenStream<'a> = MapStream<M, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MapStream { map: self.map.clone(), inner: self.inner.token_stream(text) }
    }
}

/// The stream of a [`MapTokenizer`].
pub struct MapStream<M, S> {
    map: M,
    inner: S,
}

impl<M: TextMap, S: TokenStream> TokenStream for MapStream<M, S> {
    fn advance(&mut self) -> bool {
        if !self.inner.advance() {
            return false;
        }
        self.map.map(&mut self.inner.token_mut().text);
        true
    }

    fn token(&self) -> &Token {
        self.inner.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.inner.token_mut()
    }
}
