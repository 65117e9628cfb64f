<?xml version="1.0" encoding="utf-8"?>
<!-- Renders our Atom feeds as a readable page when someone opens one in a browser.
     XSLT 1.0 without disable-output-escaping (browsers ignore it): summaries are shown as text. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>
  <xsl:template match="/atom:feed">
    <html lang="{@xml:lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:title"/></title>
        <style>
          body { margin: 0 auto; max-width: 48rem; padding: 1rem; font: 16px/1.5 system-ui, sans-serif; color: #1d2430; }
          .note { background: #fff8d6; border: 1px solid #e6d17a; border-radius: .5rem; padding: .75rem 1rem; }
          code { overflow-wrap: anywhere; }
          article { border-top: 1px solid #d9dee6; padding: .75rem 0; }
          article h2 { font-size: 1.1rem; margin: 0; }
          .meta { color: #5b6472; font-size: .85rem; }
          a { color: #0b5cad; }
        </style>
      </head>
      <body>
        <p class="note">This is a news feed. Copy this page's address
          (<code><xsl:value-of select="atom:link[@rel='self']/@href"/></code>)
          into your feed reader to subscribe. <a href="{atom:link[@rel='alternate'][1]/@href}">All topics</a></p>
        <h1><xsl:value-of select="atom:title"/></h1>
        <p><xsl:value-of select="atom:subtitle"/></p>
        <xsl:for-each select="atom:entry">
          <article>
            <h2><a href="{atom:link[@rel='alternate'][1]/@href}"><xsl:value-of select="atom:title"/></a></h2>
            <p class="meta">
              <time datetime="{atom:published}"><xsl:value-of select="substring(atom:published, 1, 10)"/></time>
              <xsl:text> · </xsl:text><xsl:value-of select="atom:source/atom:title"/>
              <xsl:for-each select="atom:link[@rel='related']">
                <xsl:text>, </xsl:text><a href="{@href}"><xsl:value-of select="@title"/></a>
              </xsl:for-each>
            </p>
          </article>
        </xsl:for-each>
        <xsl:if test="atom:link[@rel='prev-archive']">
          <p><a href="{atom:link[@rel='prev-archive']/@href}">Older entries (archive)</a></p>
        </xsl:if>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
