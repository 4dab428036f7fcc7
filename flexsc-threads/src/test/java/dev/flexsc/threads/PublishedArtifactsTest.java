package dev.flexsc.threads;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a Maven user of the published modules relies on, read from the poms: the BOM lists
 * exactly the published modules at the reactor's version, and the parent carries the
 * metadata a repository requires (licence, SCM, developers, URL).
 */
class PublishedArtifactsTest {
    /** Reactor modules that are not published as libraries. */
    private static final Set<String> UNPUBLISHED = Set.of("flexsc-bench", "flexsc-bom", "flexsc-jcstress");

    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    private static Element pom(String dir) throws Exception {
        Path p = ROOT.resolve(dir).resolve("pom.xml");
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(p.toFile()).getDocumentElement();
    }

    /** The direct children of {@code e} named {@code name}. */
    private static List<Element> children(Element e, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(name)) out.add(c);
        }
        return out;
    }

    private static Element child(Element e, String path) {
        Element cur = e;
        for (String name : path.split("/")) {
            List<Element> c = children(cur, name);
            assertEquals(1, c.size(), "<" + name + "> under <" + cur.getTagName() + ">");
            cur = c.get(0);
        }
        return cur;
    }

    @Test
    void theBomListsExactlyThePublishedModulesAtTheReactorVersion() throws Exception {
        Element parent = pom(".");
        Element bom = pom("flexsc-bom");
        assertEquals(child(parent, "version").getTextContent(), child(bom, "version").getTextContent());
        assertEquals(child(parent, "groupId").getTextContent(), child(bom, "groupId").getTextContent());
        Set<String> published = new TreeSet<>();
        for (Element m : children(child(parent, "modules"), "module")) {
            if (!UNPUBLISHED.contains(m.getTextContent())) published.add(m.getTextContent());
        }
        Set<String> listed = new TreeSet<>();
        NodeList deps = child(bom, "dependencyManagement/dependencies").getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element d = (Element) deps.item(i);
            assertEquals("${project.version}", child(d, "version").getTextContent());
            listed.add(child(d, "artifactId").getTextContent());
        }
        assertEquals(published, listed, "flexsc-bom/pom.xml and the reactor's modules differ");
        assertTrue(children(bom, "parent").isEmpty(), "the BOM must not inherit the build's own pins");
    }

    @Test
    void theParentCarriesTheRepositoryMetadata() throws Exception {
        for (String dir : List.of(".", "flexsc-bom")) {
            Element p = pom(dir);
            assertFalse(child(p, "url").getTextContent().isBlank());
            assertEquals("MIT License", child(p, "licenses/license/name").getTextContent());
            assertFalse(child(p, "scm/connection").getTextContent().isBlank());
            assertFalse(child(p, "developers/developer/name").getTextContent().isBlank());
        }
        assertTrue(Files.readString(ROOT.resolve("LICENSE")).startsWith("MIT License"));
    }
}
